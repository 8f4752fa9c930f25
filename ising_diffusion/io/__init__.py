"""Readers and writers of files (alignments, contact tables)."""

from ising_diffusion.io.alignment import (
    PROTEIN_ALPHABET,
    RNA_ALPHABET,
    Alignment,
    decode_sequences,
    encode_sequences,
    parse_alignment,
    read_alignment,
    write_alignment,
)
from ising_diffusion.io.contacts import (
    as_contact_map,
    contact_map,
    pairs_contact_map,
    read_contact_pairs,
    read_distance_table,
)

__all__ = [
    "PROTEIN_ALPHABET",
    "RNA_ALPHABET",
    "Alignment",
    "as_contact_map",
    "contact_map",
    "decode_sequences",
    "encode_sequences",
    "pairs_contact_map",
    "parse_alignment",
    "read_alignment",
    "read_contact_pairs",
    "read_distance_table",
    "write_alignment",
]
