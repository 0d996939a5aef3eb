"""Builds the extension mlops._mlops with the project's own CMake, for pyproject.toml.

The extension is the CMake target mlops_python (python/CMakeLists.txt); this only runs CMake
in setuptools' temporary directory and puts the result where the wheel takes it from. The
source tree is this directory's parent, so build from a checkout (pip builds in place).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE_ROOT = pathlib.Path(__file__).resolve().parent.parent


class CMakeExtension(Extension):
    """An extension CMake builds; setuptools compiles nothing itself."""

    def __init__(self, name: str, target: str) -> None:
        super().__init__(name, sources=[])
        self.target = target


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if not (SOURCE_ROOT / "CMakeLists.txt").is_file():
            sys.exit(f"mlops: {SOURCE_ROOT} is not the mlops source tree; build from a checkout")
        build_dir = pathlib.Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(SOURCE_ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release", f"-DPython_EXECUTABLE={sys.executable}",
            "-DMLOPS_BUILD_PYTHON=ON", "-DMLOPS_BUILD_TESTS=OFF", "-DMLOPS_BUILD_EXAMPLES=OFF",
            "-DMLOPS_BUILD_BENCHMARKS=OFF", "-DMLOPS_INSTALL=OFF",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        subprocess.run(configure, check=True)
        jobs = str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", ext.target, "-j", jobs],
                       check=True)
        built = sorted((build_dir / "python" / "mlops").glob("_mlops*.so"))
        if not built:
            sys.exit(f"mlops: CMake built no _mlops*.so under {build_dir / 'python' / 'mlops'}")
        destination = pathlib.Path(self.get_ext_fullpath(ext.name))
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], destination)


def project_version() -> str:
    """The version in ../CMakeLists.txt's project(), the one place it is written."""
    text = (SOURCE_ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r"project\(mlops VERSION ([0-9]+\.[0-9]+\.[0-9]+)", text)
    if not match:
        sys.exit(f"mlops: no 'project(mlops VERSION x.y.z' in {SOURCE_ROOT / 'CMakeLists.txt'}")
    return match.group(1)


setup(version=project_version(),
      ext_modules=[CMakeExtension("mlops._mlops", target="mlops_python")],
      cmdclass={"build_ext": CMakeBuild})
