"""The product's import graph: data flows one way and no two product modules import each other.

Every ``import`` and ``from ... import`` in every module under hdl/, sim/ and boards/ is read with
:mod:`ast`, including those inside functions and methods (relative imports are resolved against
the importing module's package). An import names the deepest product module it reaches: ``from
sim.onn import model`` is an edge to ``sim.onn.model``, ``from sim.rtl import run`` one to the
package ``sim.rtl``. The product must not import tb/ (tb/ holds tests only and is not shipped),
and the graph of product modules must have no cycle, module-level and function-level imports
alike: a cycle is reported as the chain of modules and the file:line of each import in it.
The same graph collapsed to packages must be acyclic too (hdl < sim < boards < the command), and
no module may use another module's private (``_name``) names.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("hdl", "sim", "boards")


def product_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the product packages."""
    modules = {}
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(tree: ast.AST, module: str, is_package: bool):
    """(dotted name, line) for every name an import in ``tree`` loads, resolved to absolute
    names. ``from a import b`` yields ``a.b``: ``b`` may be a module or an attribute of ``a``,
    :func:`import_graph` takes the deepest module the name reaches."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 >= len(package):
                    raise ValueError(f"{module}:{node.lineno}: relative import beyond the top")
                base = package[: len(package) - (node.level - 1)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                yield (base if alias.name == "*" else f"{base}.{alias.name}"), node.lineno


def import_graph(root: Path = ROOT):
    """(edges, tb_imports): edges maps module -> {imported product module: first line};
    tb_imports lists (module, line, name) of every import of tb/."""
    modules = product_modules(root)
    edges: dict[str, dict[str, int]] = {m: {} for m in modules}
    tb_imports = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for name, line in imported_names(tree, module, path.name == "__init__.py"):
            if name == "tb" or name.startswith("tb."):
                tb_imports.append((module, line, name))
                continue
            # the deepest product module the name reaches
            parts = name.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            target = ".".join(parts)
            if target and target != module:
                edges[module].setdefault(target, line)
    return edges, tb_imports


def find_cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (as a closed list of modules) per strongly connected component with more than
    one module, found with Tarjan's algorithm (iterative: the graph is small, but no recursion
    limit to think about)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return [_cycle_in(edges, set(c)) for c in components]


def _cycle_in(edges, component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first search)."""
    start = min(component)
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node]):
                if child == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child in component and child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def describe(edges, modules, cycle: list[str]) -> str:
    steps = []
    for a, b in zip(cycle, cycle[1:]):
        path = modules[a].relative_to(ROOT)
        steps.append(f"{a} -> {b} ({path}:{edges[a][b]})")
    return "; ".join(steps)


def layer_graph(edges: dict[str, dict[str, int]], layer) -> dict[str, dict[str, int]]:
    """The graph between groups of modules: ``layer(module)`` names a module's group; an edge
    between two groups keeps the first module-level edge (``"module:line"``) that makes it."""
    graph: dict[str, dict[str, str]] = {}
    for a, targets in sorted(edges.items()):
        graph.setdefault(layer(a), {})
        for b, line in sorted(targets.items()):
            graph.setdefault(layer(b), {})
            if layer(a) != layer(b):
                graph[layer(a)].setdefault(layer(b), f"{a} -> {b}:{line}")
    return graph


#: Modules that sit above every package: the ``picojoule`` command collects the subcommands of
#: every unit and of boards/, so it imports boards/ while boards/ imports sim/'s flows.
ENTRY_POINTS = ("sim.cli",)


def top_layer(module: str) -> str:
    """hdl, sim or boards; an entry point is its own layer."""
    return module if module in ENTRY_POINTS else module.split(".")[0]


def unit_layer(module: str) -> str:
    """A package directly under hdl/, sim/ or boards/ (``sim.onn``), or a top-level module."""
    return module if module in ENTRY_POINTS else ".".join(module.split(".")[:2])


def describe_layers(graph, cycle: list[str]) -> str:
    return "; ".join(f"{a} -> {b} ({graph[a][b]})" for a, b in zip(cycle, cycle[1:]))


def test_product_does_not_import_tb():
    _, tb_imports = import_graph()
    assert not tb_imports, "the product imports tb/: " + ", ".join(
        f"{module}:{line} imports {name}" for module, line, name in tb_imports)


#: Calls that read files or the environment: a design that used one would depend on more than
#: its arguments and hdl/'s sources (the conversion cache's key, ``sim.flow.toolchain.hdl_key``).
READS = ("open", "read_text", "read_bytes", "load", "loadtxt", "getenv")


def hdl_dependencies(root: Path = ROOT) -> list[str]:
    """What hdl/ under ``root`` depends on besides Amaranth, hdl/ and the standard library, and
    any file or environment read, as ``module:line ...`` lines."""
    import sys

    bad = []
    for module, path in product_modules(root).items():
        if not module.startswith("hdl"):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for name, line in imported_names(tree, module, path.name == "__init__.py"):
            top = name.split(".")[0]
            if top not in ("amaranth", "hdl") and top not in sys.stdlib_module_names:
                bad.append(f"{module}:{line} imports {name}")
            if top == "os":
                bad.append(f"{module}:{line} imports {name} (environment, files)")
        for node in ast.walk(tree):
            called = node.func if isinstance(node, ast.Call) else None
            what = getattr(called, "attr", getattr(called, "id", None))
            if what in READS:
                bad.append(f"{module}:{node.lineno} calls {what}")
    return bad


def test_hdl_depends_only_on_its_sources():
    """hdl/ imports only Amaranth, hdl/ and the standard library, and reads no file or
    environment variable: a component's Verilog is a function of its arguments, hdl/'s sources
    and the Amaranth version, which is what ``sim.flow.toolchain.convert`` keys its cache on."""
    bad = hdl_dependencies()
    assert not bad, "hdl/ depends on more than its sources: " + "; ".join(bad)


def test_checker_sees_hdl_reading_files(tmp_path):
    (tmp_path / "hdl").mkdir()
    (tmp_path / "hdl" / "__init__.py").write_text("")
    (tmp_path / "hdl" / "rom.py").write_text(
        "import os\nimport numpy as np\nfrom pathlib import Path\n\n"
        "def table():\n    return Path('t.hex').read_text(), os.environ['X']\n")
    bad = hdl_dependencies(tmp_path)
    assert bad == ["hdl.rom:1 imports os (environment, files)", "hdl.rom:2 imports numpy",
                   "hdl.rom:6 calls read_text"]


def test_no_import_cycles():
    edges, _ = import_graph()
    modules = product_modules()
    cycles = find_cycles(edges)
    assert not cycles, "import cycles between product modules:\n" + "\n".join(
        describe(edges, modules, c) for c in cycles)


def test_layers_import_one_way():
    """hdl/ imports neither sim/ nor boards/; sim/ does not import boards/ (only the command
    does); no group of packages imports each other."""
    edges, _ = import_graph()
    graph = layer_graph(edges, top_layer)
    cycles = find_cycles({a: dict.fromkeys(b, 0) for a, b in graph.items()})
    assert not cycles, "packages that import each other:\n" + "\n".join(
        describe_layers(graph, c) for c in cycles)
    assert not {b for b in graph["hdl"] if b != "hdl"}, f"hdl/ imports {graph['hdl']}"


def test_units_import_one_way():
    """No two packages under hdl/, sim/ or boards/ import each other: the units' packages
    import the shared layers (sim.power, sim.rtl), never the other way."""
    edges, _ = import_graph()
    graph = layer_graph(edges, unit_layer)
    cycles = find_cycles({a: dict.fromkeys(b, 0) for a, b in graph.items()})
    assert not cycles, "units that import each other:\n" + "\n".join(
        describe_layers(graph, c) for c in cycles)


def private_uses(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(module, line, what) for every use of another product module's private name: ``from m
    import _x``, or ``alias._x`` where ``alias`` is bound by an import of a product module."""
    modules = product_modules(root)
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in modules and a.asname:
                        aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[: len(package) - (node.level - 1)]
                                    + ([node.module] if node.module else []))
                for a in node.names:
                    full = f"{base}.{a.name}"
                    if full in modules:
                        aliases[a.asname or a.name] = full
                    elif (base in modules and base != module and a.name.startswith("_")
                          and not a.name.startswith("__")):
                        found.append((module, node.lineno, f"{base}.{a.name}"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__") and aliases[node.value.id] != module):
                found.append((module, node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return sorted(set(found))


#: Private names still shared across modules, each to be made public by its owner.
KNOWN_PRIVATE_USES: set[tuple[str, str]] = set()


def test_no_module_uses_another_modules_private_names():
    uses = [u for u in private_uses() if (u[0], u[2]) not in KNOWN_PRIVATE_USES]
    assert not uses, "private names used across modules: " + ", ".join(
        f"{m}:{line} uses {name}" for m, line, name in uses)


# ----------------------------------------------------------------------- the checker itself


def test_checker_sees_private_names(tmp_path):
    root = _tree(tmp_path, {
        "sim/a.py": "_x = 1\n",
        "sim/b.py": "from sim.a import _x\nfrom sim import a\nimport sim.a as aa\n"
                    "def f():\n    return a._x + aa._y + a.__name__\n",
        "sim/c.py": "from .a import _x\n",
    })
    assert private_uses(root) == [("sim.b", 1, "sim.a._x"), ("sim.b", 5, "sim.a._x"),
                                  ("sim.b", 5, "sim.a._y"), ("sim.c", 1, "sim.a._x")]


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PRODUCT:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    return tmp_path


def test_checker_sees_function_level_and_relative_imports(tmp_path):
    root = _tree(tmp_path, {
        "sim/a/__init__.py": "",
        "sim/a/x.py": "def f():\n    from .y import g\n",
        "sim/a/y.py": "import sim.b\n",
        "sim/b.py": "def h():\n    from sim.a import x\n",
        "boards/c.py": "def k():\n    import tb.test_onn\n",
    })
    edges, tb_imports = import_graph(root)
    assert edges["sim.a.x"] == {"sim.a.y": 2}
    assert find_cycles(edges) == [["sim.a.x", "sim.a.y", "sim.b", "sim.a.x"]]
    assert tb_imports == [("boards.c", 2, "tb.test_onn")]


def test_checker_passes_an_acyclic_tree(tmp_path):
    root = _tree(tmp_path, {
        "hdl/p.py": "X = 1\n",
        "sim/q.py": "from hdl.p import X\nfrom hdl import p\nfrom . import s\n",
        "sim/s.py": "",
        "boards/r.py": "from sim import q\n",
    })
    edges, tb_imports = import_graph(root)
    assert edges["boards.r"] == {"sim.q": 1}
    assert edges["sim.q"] == {"hdl.p": 1, "sim.s": 3}
    assert find_cycles(edges) == [] and tb_imports == []


@pytest.mark.parametrize("text", ["from ...x import y\n"])
def test_checker_refuses_relative_import_beyond_top(tmp_path, text):
    root = _tree(tmp_path, {"sim/z.py": text})
    with pytest.raises(ValueError, match="relative import beyond the top"):
        import_graph(root)


def missing_names(root: Path = ROOT) -> list[str]:
    """``module:line imports name`` for every name an import (module-level or inside a
    function) takes from a product module that the module does not define: imports inside
    functions run only when called, so a renamed name would otherwise fail only there."""
    import importlib

    modules = product_modules(root)
    missing = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for name, line in imported_names(tree, module, path.name == "__init__.py"):
            base, _, attr = name.rpartition(".")
            if base not in modules or name in modules or attr == "*":
                continue
            if not hasattr(importlib.import_module(base), attr):
                missing.append(f"{module}:{line} imports {name}")
    return sorted(set(missing))


def test_every_imported_name_exists():
    missing = missing_names()
    assert not missing, "imports of names that do not exist: " + ", ".join(missing)
