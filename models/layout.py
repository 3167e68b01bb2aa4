"""The layout model: a small BERT-style encoder, built from scratch, over the sequence of a
report's fragments; each fragment is the bag of its characters plus its position and shape
features; a token-classification head says which cell key (or none) each fragment is.

A second, character-level head reads each glued digit run (a text layer that dropped the spaces
between cells, `26845`) with the fragment's context and says after which characters one cell
ends: where the arithmetic cannot decide how to cut a run, the solver follows it."""
from __future__ import annotations

from torch import nn
from transformers import BertConfig, BertModel, PretrainedConfig, PreTrainedModel


class LayoutConfig(PretrainedConfig):
    model_type = "nianbao-layout"

    def __init__(self, vocab_size: int = 4000, n_features: int = 22, n_hints: int = 64, hidden_size: int = 128,
                 num_hidden_layers: int = 4, num_attention_heads: int = 4, intermediate_size: int = 256,
                 max_position_embeddings: int = 1024, dropout: float = 0.1, labels: list[str] | None = None,
                 cut_hidden: int = 0, max_chars: int = 16, **kw):
        labels = labels or ["none"]
        kw.setdefault("id2label", dict(enumerate(labels)))
        kw.setdefault("label2id", {k: i for i, k in enumerate(labels)})
        super().__init__(**kw)
        self.vocab_size = vocab_size
        self.n_features = n_features
        self.n_hints = n_hints
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.max_position_embeddings = max_position_embeddings
        self.dropout = dropout
        self.labels = labels
        self.cut_hidden = cut_hidden  # 0: no cut head
        self.max_chars = max_chars


class LayoutModel(PreTrainedModel):
    config_class = LayoutConfig
    base_model_prefix = "layout"

    def __init__(self, config: LayoutConfig):
        super().__init__(config)
        h = config.hidden_size
        self.chars = nn.Embedding(config.vocab_size, h, padding_idx=0)
        self.features = nn.Sequential(nn.Linear(config.n_features, h), nn.GELU(), nn.Linear(h, h))
        # the row a label matcher reads in this label, and in the last label before it
        self.hints = nn.Embedding(config.n_hints, h)
        self.context = nn.Embedding(config.n_hints, h)
        self.encoder = BertModel(BertConfig(
            vocab_size=8, hidden_size=h, num_hidden_layers=config.num_hidden_layers,
            num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
            max_position_embeddings=config.max_position_embeddings, hidden_dropout_prob=config.dropout,
            attention_probs_dropout_prob=0.0, type_vocab_size=1, attn_implementation="sdpa"),
            add_pooling_layer=False)
        self.head = nn.Linear(h, len(config.labels))
        if config.cut_hidden:
            c = config.cut_hidden
            self.cut_in = nn.Linear(2 * h, c)  # a character's embedding and its fragment's context
            self.cut_pos = nn.Embedding(config.max_chars, c)
            self.cut_rnn = nn.GRU(c, c // 2, batch_first=True, bidirectional=True)
            self.cut_out = nn.Linear(c, 1)
        self.post_init()

    def cut_logits(self, char_ids, hidden):
        """(G, max_chars) chars and (G, h) contexts of glued runs → logit of a cell ending after
        each character."""
        import torch

        pos = torch.arange(char_ids.shape[1], device=char_ids.device)
        ctx = hidden.unsqueeze(1).expand(-1, char_ids.shape[1], -1)
        x = self.cut_in(torch.cat([self.chars(char_ids), ctx], -1)) + self.cut_pos(pos)
        out, _ = self.cut_rnn(nn.functional.gelu(x))
        return self.cut_out(out).squeeze(-1)

    def forward(self, char_ids, features, hints, attention_mask, labels=None, cuts=None):
        """Returns (loss, key logits (B, N, labels), cut logits (B, N, max_chars) or None).

        `cuts` (B, N, max_chars): 1 where a cell ends after that character of a glued run, 0 where
        it does not, -1 where there is nothing to learn (not glued, padding, past the run)."""
        # a fragment is the mean of its characters' embeddings plus its features and label hint
        b, n, c = char_ids.shape
        chars = nn.functional.embedding_bag(char_ids.reshape(b * n, c), self.chars.weight, mode="mean",
                                            padding_idx=0).reshape(b, n, -1)
        x = chars + self.features(features) + self.hints(hints[..., 0]) + self.context(hints[..., 1])
        hidden = self.encoder(inputs_embeds=x, attention_mask=attention_mask).last_hidden_state
        logits = self.head(hidden)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)
        cut = None
        if self.config.cut_hidden:
            glued = (features[..., 3] > 0.5) & (attention_mask > 0)  # feature 3: the reader's glued flag
            cut = logits.new_zeros(char_ids.shape[:3])
            if glued.any():
                cut[glued] = self.cut_logits(char_ids[glued], hidden[glued])
                if cuts is not None and loss is not None:
                    target = cuts[glued]
                    known = target >= 0
                    if known.any():
                        loss = loss + nn.functional.binary_cross_entropy_with_logits(
                            cut[glued][known], target[known].float())
        return loss, logits, cut
