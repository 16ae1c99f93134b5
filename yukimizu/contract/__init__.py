"""Wire contract v1: topics, payload decoder, line protocol. See docs/contract.md."""
from .decoder import Decoded, Reading, Rejection, decode
from .errors import ContractError
from .fields import FIELDS, FieldSpec, FieldType, Kind
from .lineproto import PRECISION, line, reading_line
from .topics import Channel, Topic, parse_topic, topic

__all__ = [
    "FIELDS", "PRECISION", "Channel", "ContractError", "Decoded", "FieldSpec", "FieldType", "Kind",
    "Reading", "Rejection", "Topic", "decode", "line", "parse_topic", "reading_line", "topic",
]
