"""The suite's own layout: pytest imports test modules by basename from the root (rootdir imports,
no __init__ per folder), so two test files of one name in two folders stop the whole collection with
one error: each name once (two helpers' branches once merged into such a pair)."""

import collections
import os

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_test_module_name_is_unique():
    places = collections.defaultdict(list)
    for folder, _, files in os.walk(TESTS_DIR):
        if "node_modules" in folder:
            continue
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                places[name].append(os.path.relpath(os.path.join(folder, name), TESTS_DIR))
    assert {name: paths for name, paths in places.items() if len(paths) > 1} == {}
