"""
The shape of famd's imports, read from the source with ``ast``: no cycle
(counting the imports inside functions, so a lazy import cannot hide one),
authentication and the flows free of the web layer, and no route registered
by importing a module.
"""

import ast
import pathlib

from twisted.trial import unittest

import famd

ROOT = pathlib.Path(famd.__file__).parent
WEB_LAYER = ("famd.web", "famd.api", "klein", "twisted.web", "werkzeug")
"""Modules (and their submodules) that know HTTP."""


def module_name(path):
    """The dotted name of a source file of famd."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources():
    """{module name: parsed tree} for every module of famd."""
    return {module_name(path): ast.parse(path.read_text(), str(path)) for path in ROOT.rglob("*.py")}


def imported(name, tree, known):
    """
    Every module C{name} imports, anywhere in it (functions included), with
    the packages importing it runs; famd's own resolved to modules of
    C{known}.
    """
    package = name if (ROOT.parent / name.replace(".", "/") / "__init__.py").exists() else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = "%s.%s" % (base, alias.name)
                targets.add(full if full in known else base)
    found = set()
    for target in targets:
        parts = target.split(".")
        found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return found - {name}


def graph():
    trees = sources()
    return {name: imported(name, tree, trees) for name, tree in trees.items()}, trees


def cycles(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def reached(edges, start):
    """Every module C{start} imports, directly or not."""
    seen, todo = set(), [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def in_web_layer(name):
    return any(name == layer or name.startswith(layer + ".") for layer in WEB_LAYER)


class ImportGraphTests(unittest.TestCase):
    """famd's import graph has the shape of issue 12."""

    def setUp(self):
        self.edges, self.trees = graph()

    def test_graph_is_read(self):
        """The graph knows famd's modules and their imports (so the checks below can fail)."""
        self.assertIn("famd.auth", self.edges)
        self.assertIn("famd.digest", self.edges["famd.auth"])
        self.assertIn("famd.web", reached(self.edges, "famd.service"))
        self.assertEqual(cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}), [["a", "b", "c"]])

    def test_no_cycle(self):
        """No module imports, however indirectly or lazily, a module that imports it."""
        self.assertEqual(cycles(self.edges), [])

    def test_auth_and_flows_know_no_http(self):
        """Authentication and the flows reach nothing of the web layer, even indirectly."""
        below = [name for name in self.edges
                 if name == "famd.auth" or name == "famd.flows" or name.startswith("famd.flows.")]
        self.assertGreater(len(below), 5)
        for name in below:
            self.assertEqual(sorted(filter(in_web_layer, reached(self.edges, name))), [], name)

    def test_no_route_registered_by_import(self):
        """Every Klein application is a class attribute or built by a function: none at module level."""
        for name, tree in self.trees.items():
            for node in tree.body:
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)):
                    calls = [sub for sub in ast.walk(node) if isinstance(sub, ast.Call)]
                    names = [ast.unparse(call.func) for call in calls]
                    self.assertNotIn("Klein", names, name)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for decorator in node.decorator_list:
                        self.assertNotIn(".route", ast.unparse(decorator), name)

    def test_nothing_imported_for_its_side_effects(self):
        """No module-level import in famd is kept only for what importing it does."""
        for path in ROOT.rglob("*.py"):
            lines = path.read_text().splitlines()
            for node in ast.parse("\n".join(lines)).body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    self.assertNotIn("noqa: F401", lines[node.lineno - 1], str(path))
