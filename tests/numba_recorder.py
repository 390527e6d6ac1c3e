"""A recorder of the overloads Numba adds, for tests that run a loop in a fresh process.

Both a compilation and a cache load go through ``Dispatcher.compile`` and add an overload;
:func:`install` wraps it so that each added overload is reported to a callback with its kind
(``"compile"`` when the cache missed, else ``"cache load"``), the function's qualified name
and the signature.  A fresh process imports this module first (``sys.path`` holding
``tests/``) and installs the recorder before it imports the library.
"""
import numba.core.dispatcher as _nd


def install(report):
    """Call ``report(kind, name, signature)`` for every overload Numba adds from now on."""
    compile_ = _nd.Dispatcher.compile

    def recorded(self, sig):
        before = len(self.overloads)
        misses = sum(self._cache_misses.values())
        out = compile_(self, sig)
        if len(self.overloads) > before:
            kind = "compile" if sum(self._cache_misses.values()) > misses else "cache load"
            report(kind, self.py_func.__module__ + "." + self.py_func.__qualname__, str(sig))
        return out

    _nd.Dispatcher.compile = recorded
