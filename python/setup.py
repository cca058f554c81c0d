"""Bundles libhloc.so into the package when installing, so that an
installed `hloc` imports without HLOC_LIBRARY or LD_LIBRARY_PATH.

The library comes from HLOC_LIBRARY when that is set, else from the build
tree beside this directory (../build/driver/libhloc.so), else nowhere: the
package then finds an installed hloc's library at import time (see
hloc/_capi.py).  Everything else is in pyproject.toml.
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
        if os.path.isfile(lib):
            dest = os.path.join(self.build_lib, "hloc", "libhloc.so")
            self.copy_file(lib, dest, preserve_mode=True)


setup(cmdclass={"build_py": BuildWithLibrary})
