"""The test venv holds the extension as the wheel lays it out (tests/run.sh copies the workspace's
debug build there rather than running maturin): these checks keep that layout and pyproject.toml's
maturin settings in step, so that what `pip install session-plus-flask/` builds is what is tested."""

import pathlib
import tomllib

import session_plus_flask
from session_plus_flask import _core

CRATE = pathlib.Path(__file__).resolve().parent.parent


def maturin_settings():
    with open(CRATE / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["maturin"]


def test_the_native_module_is_where_the_wheel_puts_it():
    settings = maturin_settings()
    package, module = settings["module-name"].rsplit(".", 1)
    assert package == session_plus_flask.__name__
    assert _core.__name__ == settings["module-name"]
    native = pathlib.Path(_core.__file__)
    assert native.parent == pathlib.Path(session_plus_flask.__file__).parent
    assert native.name == f"{module}.abi3.so"


def test_the_python_sources_are_the_wheels():
    source = CRATE / maturin_settings()["python-source"] / session_plus_flask.__name__
    installed = pathlib.Path(session_plus_flask.__file__).parent
    ours = sorted(p.name for p in source.glob("*.py"))
    assert ours and ours == sorted(p.name for p in installed.glob("*.py"))
    for name in ours:
        assert (source / name).read_bytes() == (installed / name).read_bytes(), name


def test_the_wheel_is_built_as_an_extension_module():
    # Without it the module would link libpython, which a wheel must not.
    assert maturin_settings()["features"] == ["extension-module"]
