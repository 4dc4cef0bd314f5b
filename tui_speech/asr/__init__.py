"""Listen: wav2vec2 CTC recognition, decoding, streaming, formats, embeddings, fine-tuning."""
