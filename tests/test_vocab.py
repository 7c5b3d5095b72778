"""Vocabulary and one-hot batch: the pure-numpy front of the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from rnnprobe.core.errors import InputError
from rnnprobe.core.inputs.vocab import build_batch, vocabulary, words_from_text
from rnnprobe.core.kinds import Tokens

from .conftest import LECTURE_WORDS

# The lecture's one-hot rows, written out by hand.
h, e, l, o = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]  # noqa: E741
LECTURE_X = [[h, e, l, l, o], [e, o, l, l, l], [l, l, e, e, l]]


def test_lecture_batch_is_the_lecture_x_data():
    chars = vocabulary(LECTURE_WORDS)
    assert chars == ("h", "e", "l", "o")
    batch = build_batch(LECTURE_WORDS, chars)
    assert batch.x_data.array.dtype == np.float32
    assert batch.x_data.shape == (3, 5, 4)
    assert batch.x_data.dims == ("batch", "time", "vocab")
    np.testing.assert_array_equal(batch.x_data.array, np.array(LECTURE_X, dtype=np.float32))
    assert batch.lengths == (5, 5, 5)


def test_first_seen_order_is_case_sensitive():
    assert vocabulary(["aAba"]) == ("a", "A", "b")


def test_any_unicode_character_is_taken_as_it_is():
    chars = vocabulary(["안녕", "하세요"])
    assert chars == ("안", "녕", "하", "세", "요")
    batch = build_batch(["안녕", "하세요"], chars)
    assert batch.x_data.shape == (2, 3, 5)
    assert batch.lengths == (2, 3)
    # '하' is the third vocabulary entry and the first step of word 2
    assert batch.x_data.array[1, 0].tolist() == [0, 0, 1, 0, 0]


def test_explicit_vocab_sets_the_order_and_extra_characters_widen():
    chars = vocabulary(["hello"], "olhex")
    batch = build_batch(["hello"], chars)
    assert batch.vocab == ("o", "l", "h", "e", "x")
    assert batch.x_data.array[0, 0].tolist() == [0, 0, 1, 0, 0]  # h
    assert batch.x_data.array[0, 4].tolist() == [1, 0, 0, 0, 0]  # o
    assert batch.x_data.array[..., 4].sum() == 0  # x never occurs


def test_short_words_are_padded_at_the_end_with_zero_rows():
    batch = build_batch(["hello", "hi"], vocabulary(["hello", "hi"]))
    assert batch.lengths == (5, 2)
    assert batch.x_data.array[1, 2:].sum() == 0
    assert batch.x_data.array[1, :2].sum(axis=-1).tolist() == [1, 1]
    assert batch.mask.tolist() == [[True] * 5, [True, True, False, False, False]]


@pytest.mark.parametrize(
    ("words", "explicit", "needle"),
    [
        ([], None, "no words"),
        (["ok", ""], None, "word 2 is empty"),
        (["hello"], "olhee", "repeats 'e'"),
        (["hello"], "", "^vocab is empty"),
        (["a\udc80"], None, "not valid text"),
    ],
)
def test_bad_words_and_vocabularies_are_input_errors(words, explicit, needle):
    with pytest.raises(InputError, match=needle) as caught:
        vocabulary(words, explicit)
    assert caught.value.exit_code == 2


def test_a_vocabulary_that_lacks_a_token_reads_it_as_unk():
    from rnnprobe.core.inputs.vocab import unknown_tokens

    assert vocabulary(["hello"], "olh") == ("<unk>", "o", "l", "h")
    assert vocabulary(["hello"], "olhe") == ("o", "l", "h", "e")
    assert vocabulary(["good bad"], "good", Tokens.word) == ("<unk>", "good")
    batch = build_batch(["hello", "eh"], ("<unk>", "o", "l", "h"))
    assert batch.x_data is not None
    assert batch.x_data.array[0].argmax(axis=-1).tolist() == [3, 0, 2, 2, 1]
    assert batch.x_data.array[1, :2].argmax(axis=-1).tolist() == [0, 3]
    assert unknown_tokens(["hello", "eh"], ("<unk>", "o", "l", "h"), Tokens.char) == ["e"]


def test_stdin_text_is_split_on_whitespace():
    assert words_from_text(" hello\teolll\n lleel \n") == LECTURE_WORDS
    with pytest.raises(InputError, match="no words on stdin"):
        words_from_text(" \n\t")
