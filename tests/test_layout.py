"""The tree reads as the architecture, and stays so: every module of the core sits in a
declared layer and imports only downwards (or sideways without a cycle), nothing in the
core climbs to the packages that present it, and no module grows past one thing."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rnnprobe"
CORE = PACKAGE / "core"

# The layers of the core, lowest first: a module may import its own layer and those below.
LAYERS: dict[str, int] = {
    # shared: the choices, errors, the spinner, the named tensor and the model's input
    "rnnprobe.core.kinds": 0,
    "rnnprobe.core.errors": 0,
    "rnnprobe.core.progress": 0,
    "rnnprobe.core.batch": 0,
    # the description: the network as stages
    "rnnprobe.core.stages": 1,
    # shared pieces that read the description: memory, options, results
    "rnnprobe.core.budget": 2,
    "rnnprobe.core.options": 2,
    "rnnprobe.core.result": 2,
    # what the user gives, turned into the model's input and targets
    "rnnprobe.core.inputs": 3,
    # the three faces of the stages
    "rnnprobe.core.keras": 4,
    "rnnprobe.core.numpy": 4,
    "rnnprobe.core.torch": 4,
    # what each command computes from the faces
    "rnnprobe.core.commands": 5,
}
# A face reads another only here: the PyTorch twin of a user's own Keras layer.
FACE_READS = {"rnnprobe.core.torch": {"rnnprobe.core.keras"}}
FACES = {"rnnprobe.core.keras", "rnnprobe.core.numpy", "rnnprobe.core.torch"}
PRESENTING = ("rnnprobe.show", "rnnprobe.cli", "rnnprobe.api", "rnnprobe.serve")
MAX_TOP_MODULES = 10
MAX_LINES = 450


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top, inside a function or for types only; a
    name imported from a package counts as its submodule when it is one."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def _core_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def _layer_of(name: str) -> str | None:
    """The declared layer a core module belongs to (its own name or its package's)."""
    return next((layer for layer in LAYERS if name == layer or name.startswith(layer + ".")),
                None)  # fmt: skip


def test_every_module_of_the_core_sits_in_a_declared_layer():
    modules = _core_modules()
    undeclared = [n for n in modules if n != "rnnprobe.core" and _layer_of(n) is None]
    assert not undeclared, f"declare a layer for {undeclared} in tests/test_layout.py"


def _upward(imports: dict[str, set[str]]) -> list[str]:
    """Each import that goes up a layer, or from a face to a face it may not read."""
    wrong = []
    for name, imported in sorted(imports.items()):
        mine = _layer_of(name)
        for other in sorted(imported):
            theirs = _layer_of(other)
            if mine is None or theirs is None or theirs == mine:
                continue
            if LAYERS[theirs] > LAYERS[mine]:
                wrong.append(f"{name} imports {other}, a layer above it")
            elif mine in FACES and theirs in FACES and theirs not in FACE_READS.get(mine, ()):
                wrong.append(f"{name} (a face) imports {other} (another face)")
    return wrong


def test_the_core_imports_only_downwards():
    modules = _core_modules()
    assert not _upward({n: _imports(p) & set(modules) for n, p in modules.items()})


def test_the_rule_catches_what_it_forbids():
    forbidden = {
        "rnnprobe.core.stages.network": {"rnnprobe.core.keras.build"},  # a stage reads a face
        "rnnprobe.core.keras.train": {"rnnprobe.core.commands.train"},  # a face, a command
        "rnnprobe.core.numpy.engine": {"rnnprobe.core.torch.twin"},  # a face, another face
        "rnnprobe.core.inputs.vocab": {"rnnprobe.core.numpy.engine"},  # an input, a face
    }
    assert len(_upward(forbidden)) == len(forbidden)
    allowed = {
        "rnnprobe.core.torch.twin": {"rnnprobe.core.keras.user"},
        "rnnprobe.core.commands.run": {"rnnprobe.core.keras.probe", "rnnprobe.core.options"},
    }
    assert _upward(allowed) == []


def test_nothing_in_the_core_imports_the_packages_that_present_it():
    for name, path in _core_modules().items():
        climbing = [m for m in _imports(path) if m.startswith(PRESENTING)]
        assert not climbing, (name, climbing)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "rnnprobe":
                assert not {a.name for a in node.names} & {"show", "cli", "api", "serve"}, name


def test_show_never_imports_the_cli_the_api_or_the_server():
    for path in sorted((PACKAGE / "show").rglob("*.py")):
        climbing = [m for m in _imports(path) if m.startswith(PRESENTING[1:])]
        assert not climbing, (path.name, climbing)


def test_no_module_of_the_core_imports_another_in_a_cycle():
    modules = _core_modules()
    graph = {name: _imports(path) & set(modules) - {name} for name, path in modules.items()}
    assert "rnnprobe.core.keras.build" in graph["rnnprobe.core.keras.probe"]  # it reads them
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, " -> ".join([*path[path.index(name) :], name])
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_core_top_level_is_small_and_no_module_holds_several_things():
    top = [p.name for p in CORE.glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)
    lengths = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for p in sorted(PACKAGE.rglob("*.py"))
    }
    long = {path: n for path, n in lengths.items() if n > MAX_LINES}
    assert not long, long
