"""Typer's help machinery without the two rich modules a ``lakebox`` help never uses.

Typer draws every help with ``typer.rich_utils``, which imports, among what it draws
with, ``rich.markdown`` (for ``rich_markup_mode="markdown"``, which lakebox does not use)
and ``rich.traceback`` (for pretty exceptions, which lakebox turns off): with markdown-it
and pygments that is ~0.2 G instructions, a fifth of a ``lakebox --help``. ``install``
puts an import hook in front of ``typer.rich_utils`` that gives it, while it loads and
only when they are not loaded yet, stand-ins for those two modules: ``Markdown`` and
``Traceback`` are classes that load the real module and hand over to its class when they
are used (called, or asked for an attribute), so they behave as rich's own. The stand-ins
are gone from ``sys.modules`` once ``typer.rich_utils`` is loaded: any later import of
``rich.markdown`` or ``rich.traceback`` gets the real module.

``tests/cli/test_lazyrich.py`` draws every help of the command with and without the hook
and compares them.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

#: the module the hook is for, and the modules it stands in for there (with the names
#: that module takes from them)
TARGET = "typer.rich_utils"
DEFERRED = {"rich.markdown": ("Markdown",), "rich.traceback": ("Traceback",)}


class _HandOver(type):
    """The type of a stand-in class: calling it, or asking it for an attribute, loads the
    real module and hands over to the real class."""

    _module: str
    _name: str

    def _real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls._name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(cls._real(), attr)


def _stand_in(module: str, names: Sequence[str]) -> types.ModuleType:
    found = types.ModuleType(module, f"lakebox's stand-in for {module} while {TARGET} loads")
    for name in names:
        setattr(found, name, _HandOver(name, (), {"_module": module, "_name": name}))
    return found


class _Loader:
    """Loads ``typer.rich_utils`` with its own loader, the stand-ins in place meanwhile.
    (Not an ``importlib.abc.Loader``: that module imports importlib.resources, tempfile
    and random, which the help does not need; the import system asks for the methods.)"""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, is_package...: the real one's
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        placed = {
            name: _stand_in(name, attrs)
            for name, attrs in DEFERRED.items()
            if name not in sys.modules
        }
        sys.modules.update(placed)
        try:
            self.loader.exec_module(module)
        finally:
            for name, stand_in in placed.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


class _Finder:
    """Finds ``typer.rich_utils`` as the other finders do, to load it with ``_Loader``;
    leaves the import system once it has."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        uninstall()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = cast("Loader", _Loader(spec.loader))
        return spec


_FINDER = _Finder()


def install() -> None:
    """Put the hook in place, unless ``typer.rich_utils`` is loaded already."""
    if TARGET not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
