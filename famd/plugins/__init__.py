"""
Backend plugins.

Each module here declares backends with L{famd.backends.Backend}; twisted's
plugin system finds them, and third-party packages add modules to this
package path (a ``famd/plugins/`` folder without ``__init__.py``).
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))
__all__ = []
