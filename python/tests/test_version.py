"""mlops.__version__ is the C++ library's, which is the project's in CMakeLists.txt."""

import pathlib
import re

import mlops

SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_version_is_the_projects():
    text = (SOURCE_ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    declared = re.search(r"project\(mlops VERSION ([0-9.]+)", text).group(1)
    assert mlops.__version__ == declared


def test_schema_version_is_the_schema_files():
    text = (SOURCE_ROOT / "fbs" / "mlops_message.fbs").read_text(encoding="utf-8")
    declared = int(re.search(r"^// Schema version: ([0-9]+)$", text, re.MULTILINE).group(1))
    assert mlops.schema_version == declared
