"""Brokers: where emitted CloudEvents are published and where external ones are consumed."""

from emitflow.brokers.base import Acks, Consumer, Message, MessageHandler, Transport
from emitflow.brokers.factory import BROKER_SCHEMES, is_broker_url, open_consumer, open_transport

__all__ = [
    "BROKER_SCHEMES",
    "Acks",
    "Consumer",
    "Message",
    "MessageHandler",
    "Transport",
    "is_broker_url",
    "open_consumer",
    "open_transport",
]
