"""`run --check`: rnnprobe's numpy equations against Keras, and a check that can fail."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnnprobe.core.inputs.vocab import build_batch, vocabulary
from rnnprobe.core.keras import probe
from rnnprobe.core.kinds import Cell, Style
from rnnprobe.core.numpy import check
from rnnprobe.core.result import ProbeResult, Tensor
from rnnprobe.core.stages import ProbeSpec

PADDED = ["hello", "hi", "o", "elo"]
STRUCTURES = [
    [],
    ["--cell", "lstm"],
    ["--cell", "gru"],
    ["--cell", "lstm", "--style", "cell", "-H", "3,2"],
    ["--cell", "gru", "-H", "2,3", "--no-return-sequences"],
    ["--bidirectional", "--cell", "lstm", "--merge-mode", "mul"],
    ["--bidirectional", "-H", "3,2", "--style", "cell", "--no-return-sequences"],
    ["--no-return-state", "--cell", "lstm"],
]


@pytest.mark.parametrize("extra", STRUCTURES, ids=lambda e: " ".join(e) or "simple")
def test_check_passes_for_every_structure(cli, extra):
    obj = cli.json("run", *PADDED, *extra, "--check", "--seed", "5")
    assert obj["check"]["ok"] is True
    assert 0.0 <= obj["check"]["max_abs_diff"] < 1e-5
    assert list(obj)[-1] == "check"


def test_check_prints_one_line_in_tables(cli):
    out = cli.ok("run", *PADDED, "--check", "--seed", "5").stdout
    lines = [line for line in out.splitlines() if "check" in line]
    assert len(lines) == 1
    assert lines[0].startswith("✓ check ok: numpy re-computation vs Keras, max |diff| = ")


def test_without_check_there_is_no_check_key(cli):
    assert "check" not in cli.json("run", "hi", "--seed", "5")


def _probe(*words: str, **spec: object) -> ProbeResult:
    batch = build_batch(words, vocabulary(words))
    return probe.run_probe(batch, ProbeSpec(**spec), seed=3)  # type: ignore[arg-type]


def _perturbed(result: ProbeResult, name: str, delta: float) -> ProbeResult:
    weights = []
    for weight in result.weights:
        array = weight.array.copy()
        if weight.name == name:
            array.flat[0] += delta
        weights.append(Tensor(weight.name, weight.dims, array))
    return replace(result, weights=tuple(weights))


@pytest.mark.parametrize("cell", list(Cell))
@pytest.mark.parametrize("name", ["kernel", "recurrent_kernel", "bias"])
def test_check_reports_a_perturbed_weight(cell, name):
    result = _probe("hello", "hi", cell=cell, hidden=(3,))
    assert check.verify(result).ok
    failed = check.verify(_perturbed(result, name, 0.05))
    assert not failed.ok
    assert failed.max_abs_diff > check.TOLERANCE


def test_a_failed_check_exits_1_and_still_prints(cli, monkeypatch):
    real = probe.run_probe

    def broken(*args, **kwargs):
        return _perturbed(real(*args, **kwargs), "recurrent_kernel", 0.5)

    monkeypatch.setattr(probe, "run_probe", broken)
    result = cli("run", *PADDED, "--check", "--seed", "1", "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert '"ok":false' in result.stdout
    table = cli("run", *PADDED, "--check", "--seed", "1")
    assert table.exit_code == 1
    assert "✗ check FAILED" in table.stdout


def test_check_knows_the_gru_bias_without_reset_after():
    """Keras's other GRU bias layout, (3n,), built directly with reset_after=False."""
    from tensorflow.keras import layers

    words = ("hello", "hi")
    batch = build_batch(words, vocabulary(words))
    gru = layers.GRU(3, reset_after=False, return_sequences=True, return_state=True)
    outputs, h = gru(batch.x_data.array, mask=batch.mask)
    weights = tuple(
        Tensor(v.name, ("a", "b")[: len(v.shape)], np.asarray(v.numpy())) for v in gru.weights
    )
    assert weights[2].shape == (9,)
    result = ProbeResult(
        batch=batch,
        spec=ProbeSpec(style=Style.layer, cell=Cell.gru, hidden=(3,)),
        seed=0,
        outputs=Tensor("outputs", ("batch", "time", "hidden"), np.asarray(outputs)),
        states=(Tensor("h", ("batch", "hidden"), np.asarray(h)),),
        weights=weights,
    )
    verdict = check.verify(result)
    assert verdict.ok, verdict
    assert not check.verify(_perturbed(result, "recurrent_kernel", 0.05)).ok
