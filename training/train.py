"""`nianbao train`: the layout model's training loop, readable in one sitting (after nanoGPT).

Deterministic for a seed; a fixed validation split; early stopping on validation accuracy; the
checkpoint (safetensors) carries the model config, the vocabulary and the training record.
"""
from __future__ import annotations

import json
import math
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nianbao.errors import require


@dataclass
class TrainConfig:
    data: list[str] | str | None = None  # `nianbao synth` folders
    labels: str | None = None  # a folder of labelled real reports (<stem>.gold.json beside the input)
    out: str = "models/checkpoint"
    init: str | None = None  # fine-tune from this checkpoint
    epochs: int = 30
    patience: int = 3
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 0.01
    hidden_size: int = 96
    layers: int = 3
    cut_hidden: int = 64  # the glued-run cut head (0: none)
    heads: int = 4
    seed: int = 0
    limit: int | None = None
    labelled_repeat: int = 20  # how often each labelled report is seen per epoch
    device: str = "auto"
    history: list = field(default_factory=list)


def cut_targets(texts: list[str], fids: list[int], cuts: dict[int, tuple[int, ...]]) -> list[list[int]]:
    """Per fragment and character: 1 a cell ends after it, 0 it does not, -1 nothing to learn."""
    from nianbao.models.features import MAX_CHARS

    out = []
    for text, fid in zip(texts, fids):
        row = [-1] * MAX_CHARS
        if fid in cuts and len(text) <= MAX_CHARS:
            ends = set(cuts[fid])
            row[: len(text) - 1] = [int(i + 1 in ends) for i in range(len(text) - 1)]
        out.append(row)
    return out


def tensors(examples, vocab, label2id, torch):
    """Encode once: (char_ids, features, labels, example, hints, cut targets) per example."""
    from nianbao.models.features import encode

    out = []
    for ex in examples:
        enc = encode(ex.fragments, vocab)
        if not enc.fragment_ids:
            continue
        labels = [label2id.get(ex.labels.get(fid, "none"), 0) for fid in enc.fragment_ids]
        texts = {f.id: f.text for f in ex.fragments}
        cuts = cut_targets([texts[i] for i in enc.fragment_ids], enc.fragment_ids, ex.cuts)
        out.append((torch.tensor(enc.char_ids), torch.tensor(enc.features, dtype=torch.float32),
                    torch.tensor(labels), ex, torch.tensor(enc.hints), torch.tensor(cuts)))
    return out


def batches(items, batch_size, rng, torch, shuffle=True):
    order = list(range(len(items)))
    if shuffle:
        rng.shuffle(order)
    for i in range(0, len(order), batch_size):
        chunk = [items[j] for j in order[i : i + batch_size]]
        n = max(c[0].shape[0] for c in chunk)
        chars = torch.zeros(len(chunk), n, chunk[0][0].shape[1], dtype=torch.long)
        feats = torch.zeros(len(chunk), n, chunk[0][1].shape[1])
        labels = torch.full((len(chunk), n), -100, dtype=torch.long)
        mask = torch.zeros(len(chunk), n, dtype=torch.long)
        hints = torch.zeros(len(chunk), n, 2, dtype=torch.long)
        cuts = torch.full((len(chunk), n, chunk[0][5].shape[1]), -1, dtype=torch.long)
        for b, (c, f, y, _, h, u) in enumerate(chunk):
            k = c.shape[0]
            chars[b, :k], feats[b, :k], labels[b, :k], mask[b, :k], hints[b, :k], cuts[b, :k] = c, f, y, 1, h, u
        yield chars, feats, hints, mask, labels, cuts, chunk


def accuracy(model, items, torch, device, batch_size=32) -> dict:
    """Fragment accuracy over all fragments the model reads, and over numbers and blanks only;
    the share of labelled glued runs whose every cut the cut head gets right."""
    model.eval()
    right = total = vright = vtotal = cright = ctotal = 0
    with torch.no_grad():
        for chars, feats, hints, mask, labels, cuts, chunk in batches(items, batch_size, None, torch, shuffle=False):
            _, logits, cut = model(chars.to(device), feats.to(device), hints.to(device), mask.to(device))
            if cut is not None:
                known = cuts >= 0
                wrong = ((cut.cpu() > 0).long() != cuts) & known
                runs = known.any(-1)
                ctotal += runs.sum().item()
                cright += (runs & ~wrong.any(-1)).sum().item()
            pred = logits.argmax(-1).cpu()
            ok = (pred == labels) & (labels != -100)
            right += ok.sum().item()
            total += (labels != -100).sum().item()
            is_value = (feats[..., 1] + feats[..., 2]) > 0
            vright += (ok & is_value).sum().item()
            vtotal += ((labels != -100) & is_value).sum().item()
    model.train()
    out = dict(fragment_accuracy=right / max(1, total), value_accuracy=vright / max(1, vtotal))
    if ctotal:
        out["cut_accuracy"] = cright / ctotal
    return out


def train(cfg: TrainConfig, log=print) -> dict:
    torch = require("torch", "model", "Training the layout model")
    from tqdm import tqdm

    from nianbao.models.features import MAX_CHARS, N_FEATURES, CharVocab, label_space, row_space
    from nianbao.models.layout import LayoutConfig, LayoutModel

    from .data import is_validation, load_labelled, load_synthetic

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    torch.use_deterministic_algorithms(True, warn_only=True)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    folders = [cfg.data] if isinstance(cfg.data, str) else (cfg.data or [])
    synthetic = [ex for d in folders for ex in load_synthetic(Path(d), cfg.limit)]
    labelled = load_labelled(Path(cfg.labels)) if cfg.labels else []
    if not synthetic and not labelled:
        raise ValueError("nothing to train on: give --data (a `nianbao synth` folder) and/or --labels")

    if cfg.init:
        model = LayoutModel.from_pretrained(cfg.init)
        vocab = CharVocab.load(Path(cfg.init) / "vocab.json")
    else:
        vocab = CharVocab.build(f.text for ex in synthetic + labelled for f in ex.fragments)
        labels = label_space()
        model = LayoutModel(LayoutConfig(vocab_size=len(vocab), n_features=N_FEATURES, n_hints=len(row_space()),
                                         hidden_size=cfg.hidden_size,
                                         num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
                                         intermediate_size=2 * cfg.hidden_size, labels=labels,
                                         cut_hidden=cfg.cut_hidden, max_chars=MAX_CHARS))
    label2id = model.config.label2id
    model.to(device)

    syn_train = [e for e in synthetic if not is_validation(e.id)]
    syn_val = [e for e in synthetic if is_validation(e.id)]
    lab_val = [e for e in labelled if is_validation(e.id, 0.34)]
    lab_train = [e for e in labelled if e not in lab_val] or labelled
    train_items = tensors(syn_train + lab_train * cfg.labelled_repeat, vocab, label2id, torch)
    val_items = tensors(syn_val, vocab, label2id, torch)
    lab_val_items = tensors(lab_val, vocab, label2id, torch)
    log(f"{len(syn_train)} synthetic + {len(lab_train)} labelled for training, {len(syn_val)} + {len(lab_val)} "
        f"held out; {sum(p.numel() for p in model.parameters()):,} parameters on {device}")

    before = dict(synthetic=accuracy(model, val_items, torch, device),
                  labelled=accuracy(model, lab_val_items, torch, device) if lab_val_items else None) if cfg.init else None
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_items) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps_per_epoch // 2)) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total_steps))))
    rng = random.Random(cfg.seed)
    best, bad_epochs, history = -1.0, 0, []
    out = Path(cfg.out)
    t0 = time.time()
    for epoch in range(cfg.epochs):
        losses = []
        for chars, feats, hints, mask, labels, cuts, _ in tqdm(batches(train_items, cfg.batch_size, rng, torch),
                                                               total=steps_per_epoch, desc=f"epoch {epoch + 1}",
                                                               leave=False, disable=None):
            loss, _, _ = model(chars.to(device), feats.to(device), hints.to(device), mask.to(device), labels.to(device),
                               cuts.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        metrics = accuracy(model, val_items or train_items[:64], torch, device)
        if lab_val_items:
            metrics["labelled_value_accuracy"] = accuracy(model, lab_val_items, torch, device)["value_accuracy"]
        metrics.update(epoch=epoch + 1, loss=sum(losses) / len(losses), seconds=round(time.time() - t0, 1))
        history.append(metrics)
        log(json.dumps(metrics))
        # glued runs are a small share of fragments: their cuts count for a tenth
        score = metrics["fragment_accuracy"] + metrics.get("labelled_value_accuracy", 0.0) + 0.1 * metrics.get("cut_accuracy", 0.0)
        if score > best + 1e-5:
            best, bad_epochs = score, 0
            save(model, vocab, cfg, history, before, out)
        else:
            bad_epochs += 1
            if bad_epochs >= cfg.patience:
                break
    return dict(history=history, before=before, out=str(out))


def save(model, vocab, cfg: TrainConfig, history, before, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    vocab.save(out / "vocab.json")
    record = asdict(cfg)
    record["command"] = "nianbao " + shlex.join(sys.argv[1:]) if sys.argv[0].endswith("nianbao") else shlex.join(sys.argv)
    record["history"] = history
    record["before"] = before
    (out / "training.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")
