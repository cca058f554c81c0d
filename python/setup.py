"""Bundles libhloc.so into the package when installing, so that an
installed `hloc` imports without HLOC_LIBRARY or LD_LIBRARY_PATH, and with
it the runtime archive libhloc_runtime.a, which Executable.save links into
the libraries it writes (libhloc looks for it beside itself).

The library comes from HLOC_LIBRARY when that is set, else from the build
tree beside this directory (../build/driver/libhloc.so), else nowhere: the
package then finds an installed hloc's library at import time (see
hloc/_capi.py).  The archive comes from beside the library (an installed
hloc's PREFIX/lib) or from the build tree the library is in
(build/runtime/dist/).  Everything else is in pyproject.toml.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        here = os.path.dirname(os.path.abspath(__file__))
        lib = os.environ.get("HLOC_LIBRARY") or os.path.join(
            here, os.pardir, "build", "driver", "libhloc.so")
        if not os.path.isfile(lib):
            return
        self.copy_file(lib, os.path.join(self.build_lib, "hloc", "libhloc.so"),
                       preserve_mode=True)
        libdir = os.path.dirname(os.path.realpath(lib))
        for runtime in (os.path.join(libdir, "libhloc_runtime.a"),
                        os.path.join(libdir, os.pardir, "runtime", "dist", "libhloc_runtime.a")):
            if os.path.isfile(runtime):
                self.copy_file(runtime, os.path.join(self.build_lib, "hloc",
                                                     "libhloc_runtime.a"))
                break


setup(cmdclass={"build_py": BuildWithLibrary})
