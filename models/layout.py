"""The layout model: a small BERT-style encoder, built from scratch, over the sequence of a
report's fragments; each fragment is the bag of its characters plus its position and shape
features; a token-classification head says which cell key (or none) each fragment is."""
from __future__ import annotations

from torch import nn
from transformers import BertConfig, BertModel, PretrainedConfig, PreTrainedModel


class LayoutConfig(PretrainedConfig):
    model_type = "nianbao-layout"

    def __init__(self, vocab_size: int = 4000, n_features: int = 22, n_hints: int = 64, hidden_size: int = 128,
                 num_hidden_layers: int = 4, num_attention_heads: int = 4, intermediate_size: int = 256,
                 max_position_embeddings: int = 1024, dropout: float = 0.1, labels: list[str] | None = None,
                 **kw):
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
        self.post_init()

    def forward(self, char_ids, features, hints, attention_mask, labels=None):
        # a fragment is the mean of its characters' embeddings plus its features and label hint
        mask = (char_ids > 0).unsqueeze(-1).float()
        chars = (self.chars(char_ids) * mask).sum(2) / mask.sum(2).clamp(min=1.0)
        x = chars + self.features(features) + self.hints(hints[..., 0]) + self.context(hints[..., 1])
        hidden = self.encoder(inputs_embeds=x, attention_mask=attention_mask).last_hidden_state
        logits = self.head(hidden)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)
        return loss, logits
