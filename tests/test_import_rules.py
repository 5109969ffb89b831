"""The rooms of docs/DESIGN.md, their floors, and the imports between them.

The table between the `import-rules` markers in docs/DESIGN.md is the rule: every module of scar/,
evaluators/ and baselines/ belongs to exactly one room, and imports outside its room only what its row
allows (at load time, or also inside functions). Every import statement counts, at any depth (inside
functions, `try`, `if TYPE_CHECKING`), relative or absolute, and so does `importlib.import_module` with a
literal name. No module imports, or reads as an attribute, a private (`_name`) symbol of another package.
Each room stands on a floor: an import that leaves its room goes down to a lower floor, never up or
sideways, and the import graph of every module (all of the imports above) holds no cycle.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DESIGN = REPO / "docs" / "DESIGN.md"
PACKAGES = ("scar", "evaluators", "baselines")
BEGIN, END = "<!-- import-rules:begin -->", "<!-- import-rules:end -->"


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Room:
    name: str
    floor: int  # an import leaving the room goes to a room on a lower floor
    modules: tuple[str, ...]  # patterns: `a.b` that module exactly, `a.b.*` the package and everything in it
    load: tuple[str, ...]  # what it may import from other rooms at load time
    lazy: tuple[str, ...]  # what it may also import inside functions (`*`: anything)


def matches(pattern: str, module: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return module == base or module.startswith(base + ".")
    return module == pattern


def _patterns(cell: str) -> tuple[str, ...]:
    return tuple(re.findall(r"`([^`]+)`", cell))


def parse_rules(text: str) -> list[Room]:
    if BEGIN not in text or END not in text:
        raise AssertionError(f"docs/DESIGN.md lacks the {BEGIN} ... {END} table")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rooms = []
    for line in table.strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or set(cells[1]) <= set("-: ") or cells[0].lower() == "room":
            continue
        rooms.append(Room(cells[0], int(cells[1]), _patterns(cells[2]), _patterns(cells[3]), _patterns(cells[4])))
    return rooms


def rules() -> list[Room]:
    return parse_rules(DESIGN.read_text("utf-8"))


def room_of(module: str, rooms: list[Room]) -> list[Room]:
    """The rooms whose most specific matching pattern names `module`: a room nested in another room's
    package (`evaluators.robustness.*` inside `evaluators.*`) owns its modules."""
    found = [(max(len(p) for p in r.modules if matches(p, module)), r) for r in rooms
             if any(matches(p, module) for p in r.modules)]
    best = max((length for length, _ in found), default=0)
    return [r for length, r in found if length == best]


# ---------------------------------------------------------------- the imports


@dataclass(frozen=True)
class Edge:
    module: str  # the importer
    target: str  # the project module imported
    name: str | None  # the name taken from it (`from target import name`), when not a module itself
    lazy: bool  # not run at load time: inside a function, or under `if TYPE_CHECKING`
    line: int

    def __str__(self) -> str:
        what = f"{self.target}.{self.name}" if self.name else self.target
        return f"{self.module}:{self.line} imports {what}{' (lazily)' if self.lazy else ''}"


def project_modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, modules: dict[str, Path]) -> None:
        self.module = module
        self.modules = modules
        self.is_package = modules[module].name == "__init__.py"
        self.depth = 0  # > 0 inside a function or a TYPE_CHECKING block
        self.edges: list[Edge] = []
        self.aliases: dict[str, str] = {}  # local name -> project module it is bound to
        self.attributes: list[tuple[str, int]] = []  # dotted names read, e.g. "vlm2vec._checkpoint_file"

    def _in_project(self, name: str) -> bool:
        return name.split(".")[0] in PACKAGES

    def _add(self, target: str, name: str | None, node: ast.AST) -> None:
        self.edges.append(Edge(self.module, target, name, self.depth > 0, getattr(node, "lineno", 0)))

    def _lazy(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _lazy

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.visit(node.test)
        self.depth += 1
        for child in node.body:
            self.visit(child)
        self.depth -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self._in_project(alias.name):
                self._add(alias.name, None, node)
                bound = alias.asname or alias.name.split(".")[0]
                self.aliases[bound] = alias.name if alias.asname else alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.module.split(".")
            if not self.is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if not self._in_project(source):
            return
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in self.modules:
                self._add(submodule, None, node)
                self.aliases[alias.asname or alias.name] = submodule
            else:
                self._add(source, alias.name, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
            if isinstance(name, str) and self._in_project(name):
                self.edges.append(Edge(self.module, name, None, True, node.lineno))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = []
        inner: ast.expr = node
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if isinstance(inner, ast.Name):
            self.attributes.append((".".join([inner.id, *reversed(parts)]), node.lineno))
            return  # the chain is recorded whole; its inner links add nothing
        self.generic_visit(node)


@dataclass
class ModuleImports:
    edges: list[Edge]
    private_reads: list[str]  # "<module>:<line> reads <target>.<_name>"


def module_imports(module: str, modules: dict[str, Path]) -> ModuleImports:
    collector = _Collector(module, modules)
    collector.visit(ast.parse(modules[module].read_text("utf-8"), filename=str(modules[module])))
    reads = []
    for dotted, line in collector.attributes:
        head, *rest = dotted.split(".")
        if head not in collector.aliases:
            continue
        target = collector.aliases[head]
        for attr in rest:  # walk down through submodules: `scar.sources.images._x`
            if f"{target}.{attr}" in modules:
                target = f"{target}.{attr}"
                continue
            if attr.startswith("_") and not attr.startswith("__") and _package(target, modules) != _package(module, modules):
                reads.append(f"{module}:{line} reads {target}.{attr}")
            break
    return ModuleImports(collector.edges, reads)


def _package(module: str, modules: dict[str, Path]) -> str:
    return module if modules[module].name == "__init__.py" else module.rpartition(".")[0]


# ---------------------------------------------------------------- the check


def violations(root: Path, rooms: list[Room]) -> list[str]:
    modules = project_modules(root)
    problems = []
    for module in modules:
        homes = room_of(module, rooms)
        if len(homes) != 1:
            where = ", ".join(r.name for r in homes) or "no room"
            problems.append(f"{module} belongs to {where}; it must belong to exactly one room of docs/DESIGN.md")
            continue
        home = homes[0]
        found = module_imports(module, modules)
        problems += found.private_reads
        for edge in found.edges:
            target_rooms = room_of(edge.target, rooms)
            if edge.target not in modules:
                problems.append(f"{edge}: no such project module")
                continue
            private = edge.name is not None and edge.name.startswith("_") and not edge.name.startswith("__")
            if private and _package(edge.target, modules) != _package(module, modules):
                problems.append(f"{edge}: a private name of another package")
            if home in target_rooms:
                continue
            upward = [r for r in target_rooms if r.floor >= home.floor]
            if upward:
                problems.append(f"{edge}: room {home.name} (floor {home.floor}) imports room {upward[0].name} "
                                f"(floor {upward[0].floor}): an import leaving a room goes down (docs/DESIGN.md)")
            allowed = home.load + (home.lazy if edge.lazy else ())
            if not any(matches(p, edge.target) for p in allowed):
                problems.append(f"{edge}: room {home.name} may not import it (docs/DESIGN.md)")
    return problems


def unused_allowances(root: Path, rooms: list[Room]) -> list[str]:
    """Table entries no module needs: the table must say what the code does, not more."""
    modules = project_modules(root)
    edges = [e for m in modules for e in module_imports(m, modules).edges]
    stale = []
    for room in rooms:
        if not any(matches(p, m) for p in room.modules for m in modules):
            stale.append(f"room {room.name}: its modules {room.modules} match no module")
        mine = [e for e in edges if room_of(e.module, rooms) == [room] and room not in room_of(e.target, rooms)]
        for pattern in room.load:
            if not any(matches(pattern, e.target) for e in mine if not e.lazy):
                stale.append(f"room {room.name} may import {pattern} at load time, but no module does")
        for pattern in room.lazy:
            if pattern != "*" and not any(matches(pattern, e.target) for e in mine if e.lazy):
                stale.append(f"room {room.name} may import {pattern} inside functions, but no module does")
    return stale


def import_graph(root: Path) -> dict[str, list[str]]:
    """module -> the project modules it imports: at load time, inside functions, under TYPE_CHECKING and
    through `importlib.import_module` with a literal name (a package's own submodules included)."""
    modules = project_modules(root)
    return {
        m: sorted({e.target for e in module_imports(m, modules).edges if e.target in modules and e.target != m})
        for m in modules
    }


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted: every import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def upward_allowances(rooms: list[Room]) -> list[str]:
    """Table entries that would let a room import a room on its own floor or above."""
    problems = []
    for room in rooms:
        for pattern in room.load + room.lazy:
            if pattern == "*":
                continue
            for other in rooms:
                if other is not room and other.floor >= room.floor and any(
                    matches(pattern, m) or matches(m, pattern.removesuffix(".*")) for m in other.modules
                ):
                    problems.append(f"room {room.name} (floor {room.floor}) may import {pattern}, in room {other.name} "
                                    f"(floor {other.floor})")
    return problems


# ---------------------------------------------------------------- the project


def test_every_module_imports_only_what_its_room_allows() -> None:
    assert violations(REPO, rules()) == []


def test_the_table_allows_nothing_the_code_does_not_use() -> None:
    assert unused_allowances(REPO, rules()) == []


def test_no_import_cycle_between_any_modules() -> None:
    assert cycles(import_graph(REPO)) == []


def test_the_table_lets_no_room_import_its_own_floor_or_above() -> None:
    assert upward_allowances(rules()) == []


def _room(name: str) -> Room:
    found = [r for r in rules() if r.name == name]
    assert found, f"docs/DESIGN.md has no room {name!r}"
    return found[0]


@pytest.mark.parametrize(
    ("room", "forbidden"),
    [
        ("engine", "baselines.clip"),  # models register into the evaluators as data, never the reverse
        ("registry", "baselines.clip"),
        ("contract", "baselines.clip"),
        ("sources", "evaluators.runner"),
        ("sources", "baselines.clip"),
        ("sources", "scar.generate.base"),
        ("generate", "evaluators.runner"),
        ("generate", "baselines.clip"),
        ("generate", "scar.sources.coco"),
        ("core", "scar.build.pipeline"),
        ("leaderboard", "evaluators.runner"),  # results files and the catalog only, not the engine
        ("baselines", "scar.core.schema"),
    ],
)
def test_the_table_keeps_the_one_way_edges(room: str, forbidden: str) -> None:
    rule = _room(room)
    assert not any(matches(p, forbidden) for p in rule.load + rule.lazy), f"{room} may import {forbidden}"


def test_the_commands_import_their_rooms_only_when_run() -> None:
    rule = _room("commands")
    assert rule.load == ("scar.core.errors", "scar.core.version"), "`scar --help` and `scar build` must not load the model stack"
    modules = project_modules(REPO)
    for module in ("scar.cli", "scar.demo_job"):
        eager = [e for e in module_imports(module, modules).edges if not e.lazy and room_of(e.target, rules()) != [rule]]
        assert all(e.target == "scar.core.errors" for e in eager), eager


# ---------------------------------------------------------------- the checker itself


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        for folder in [root / package, *(p for p in (root / package).rglob("*") if p.is_dir())]:
            if folder.is_dir() and not (folder / "__init__.py").exists():
                (folder / "__init__.py").write_text("")
    return root


SYNTHETIC = [
    Room("core", 0, ("scar.core.*",), (), ()),
    Room("sources", 1, ("scar.sources.*",), ("scar.core.errors", "scar.core.schema"), ()),
    Room("evaluators", 1, ("evaluators.*",), ("scar.core.errors",), ()),
    Room("baselines", 2, ("baselines.*",), ("evaluators.*", "scar.core.errors"), ()),
    Room("commands", 3, ("scar", "scar.cli"), ("scar.core.errors",), ("*",)),
]
CLEAN = {
    "scar/core/errors.py": "class ScarError(Exception): ...\n",
    "scar/core/schema.py": "from scar.core.errors import ScarError\n_ROW = 1\n",
    "scar/sources/coco.py": "from scar.core.schema import _ROW\nfrom ..core.errors import ScarError\n",
    "scar/cli.py": "from scar.core.errors import ScarError\ndef run():\n    import baselines.clip\n",
    "evaluators/models/registry.py": "from scar.core.errors import ScarError\n_MODELS = {}\ndef register(): ...\n",
    "baselines/clip.py": "from evaluators.models.registry import register\nfrom scar.core.errors import ScarError\n",
}


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    # scar.sources.coco takes a private name from scar.core.schema: caught below, so drop it here
    files = {**CLEAN, "scar/sources/coco.py": "from scar.core.schema import Entity\nfrom ..core.errors import ScarError\n"}
    root = _tree(tmp_path, files)
    assert violations(root, SYNTHETIC) == []
    assert cycles(import_graph(root)) == []


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("evaluators/runner.py", "from baselines.clip import load\n", "evaluators.runner:1 imports baselines.clip"),
        ("evaluators/runner.py", "import baselines.clip as c\n", "evaluators.runner:1 imports baselines.clip"),
        ("evaluators/runner.py", "def f():\n    from baselines import clip\n", "imports baselines.clip (lazily)"),
        ("evaluators/tasks/x.py", "from ...baselines import clip\n", "evaluators.tasks.x:1 imports baselines.clip"),
        ("evaluators/x.py", "import importlib\nimportlib.import_module('baselines.clip')\n", "imports baselines.clip"),
        ("scar/sources/x.py", "from evaluators.models.registry import register\n", "room sources may not import it"),
        ("scar/sources/x.py", "if 1:\n    try:\n        import scar.cli\n    except ImportError: pass\n", "imports scar.cli"),
        ("scar/cli.py", "import evaluators.models.registry\n", "scar.cli:1 imports evaluators.models.registry: room commands"),
        ("baselines/x.py", "from evaluators.models.registry import _MODELS\n", "a private name of another package"),
        ("baselines/x.py", "from evaluators.models import registry\nregistry._MODELS.clear()\n", "reads evaluators.models.registry._MODELS"),
        ("baselines/x.py", "import evaluators.models.registry\nprint(evaluators.models.registry._MODELS)\n", "reads evaluators.models.registry._MODELS"),
        ("scar/sources/x.py", "from scar.core.schema import _ROW\n", "imports scar.core.schema._ROW: a private name"),
        ("scar/stray.py", "", "scar.stray belongs to no room"),
        # up a floor, and sideways to a room on the same floor
        ("evaluators/x.py", "def f():\n    import baselines.clip\n", "room evaluators (floor 1) imports room baselines (floor 2)"),
        ("scar/sources/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import evaluators.y\n",
         "room sources (floor 1) imports room evaluators (floor 1)"),
        ("scar/core/x.py", "import scar\n", "room core (floor 0) imports room commands (floor 3)"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path: Path, path: str, text: str, expected: str) -> None:
    found = violations(_tree(tmp_path, {**CLEAN, "scar/sources/coco.py": "", "evaluators/y.py": "", path: text}), SYNTHETIC)
    assert any(expected in v for v in found), found


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("from scar.sources import b\n", "import scar.sources.a\n"),  # both at load time
        ("def f():\n    import scar.sources.b\n", "from scar.sources.a import X\nX = 1\n"),  # one inside a function
        ("import importlib\nimportlib.import_module('scar.sources.b')\n", "import scar.sources.a\n"),  # by a literal name
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from scar.sources.b import Y\n", "import scar.sources.a\n"),
    ],
)
def test_an_import_cycle_is_found_however_it_imports(tmp_path: Path, a: str, b: str) -> None:
    root = _tree(tmp_path, {**CLEAN, "scar/sources/coco.py": "", "scar/sources/a.py": a, "scar/sources/b.py": b})
    assert violations(root, SYNTHETIC) == []  # one room: the table allows it, the cycle test does not
    assert cycles(import_graph(root)) == [["scar.sources.a", "scar.sources.b"]]


def test_a_cycle_through_a_package_face_is_found(tmp_path: Path) -> None:
    files = {**CLEAN, "scar/__init__.py": "def __getattr__(name):\n    from evaluators import api\n",
             "evaluators/api.py": "import scar\n"}
    assert cycles(import_graph(_tree(tmp_path, files))) == [["evaluators.api", "scar"]]


def test_a_table_entry_up_or_sideways_is_refused() -> None:
    rooms = [*SYNTHETIC[:2], Room("evaluators", 1, ("evaluators.*",), ("scar.sources.*",), ("baselines.clip",)),
             *SYNTHETIC[3:]]
    found = upward_allowances(rooms)
    assert any("evaluators (floor 1) may import scar.sources.*, in room sources (floor 1)" in p for p in found), found
    assert any("may import baselines.clip, in room baselines (floor 2)" in p for p in found), found
    assert upward_allowances(SYNTHETIC) == []


def test_the_table_parses_from_markdown() -> None:
    text = f"""intro\n{BEGIN}\n| room | floor | modules | load | lazy |\n|---|---|---|---|---|
| a | 0 | `x.*`, `y` | `z` | – |\n| b | 1 | `w` | – | `*` |\n{END}\n"""
    assert parse_rules(text) == [Room("a", 0, ("x.*", "y"), ("z",), ()), Room("b", 1, ("w",), (), ("*",))]
    assert matches("x.*", "x") and matches("x.*", "x.y.z") and not matches("x.*", "xy") and not matches("x", "x.y")


def test_the_design_document_names_only_paths_inside_the_repository() -> None:
    text = DESIGN.read_text("utf-8")
    assert "../" not in text and not re.search(r"(?<![\w.])/(?:work|home|tmp|usr)/", text)
    for folder in re.findall(r"`((?:scar|evaluators|baselines|tests|docs|scripts|leaderboards)/[\w/.]*)`", text):
        path = REPO / folder
        assert path.exists() or path.with_suffix(".py").exists(), f"docs/DESIGN.md names {folder}, which does not exist"
