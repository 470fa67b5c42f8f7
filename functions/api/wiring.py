"""Per-process wiring: settings, the Redis client and the services, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from flask import current_app
from redis import Redis

from functions.api.event_hub import EventHub
from functions.config import Settings
from functions.crypto.envelope import Envelope, envelope_from_settings
from functions.queueing import enqueue_session_purge
from functions.services.api_keys import ApiKeyService
from functions.services.automation import AutomationService
from functions.services.bulk import BulkService
from functions.services.calls import CallService
from functions.services.catalog import CatalogService
from functions.services.channels import ChannelService
from functions.services.chats import ChatService
from functions.services.contacts import ContactService
from functions.services.groups import GroupService
from functions.services.labels import LabelService
from functions.services.media_conversion import MediaConversionService
from functions.services.message_actions import MessageActionService
from functions.services.messages import MessageService
from functions.services.presence import PresenceService
from functions.services.profile import ProfileService
from functions.services.runner_commands import RunnerCommands
from functions.services.search import SearchService
from functions.services.session_engine import SessionEngine
from functions.services.session_proxy import SessionProxyService
from functions.services.sessions import SessionService
from functions.services.stats import StatsService
from functions.services.stories import StoryService
from functions.services.templates import TemplateService
from functions.services.webhooks import WebhookService
from functions.state.api_keys import ApiKeyRepository
from functions.state.audit import AuditLog
from functions.state.automation_rules import AutomationRuleRepository
from functions.state.batches import BatchRepository
from functions.state.connection import redis_from_settings
from functions.state.deliveries import DeliveryRepository
from functions.state.keys import Keys
from functions.state.message_search_query import MessageSearchIndex
from functions.state.messages import MessageRepository
from functions.state.pacing import PacingState
from functions.state.sessions import SessionRepository
from functions.state.stories import StoryRepository
from functions.state.streams import OpenStreams, StreamCaps
from functions.state.templates import TemplateRepository
from functions.state.webhooks import WebhookRepository
from functions.storage import BlobStorage, build_storage
from functions.storage.manifests import Manifest, mirror_of, write_manifest
from functions.webhooks.delivery import DeliveryContext
from functions.webhooks.dispatch import event_log
from functions.webhooks.sender import Sender


@dataclass
class Services:
    """Everything a request handler may need. Storage and encryption are built on first use."""

    settings: Settings
    redis: Redis = field(init=False)

    def __post_init__(self) -> None:
        self.redis = redis_from_settings(self.settings)
        self.keys = Keys(self.settings.redis_prefix)
        self.session_repo = SessionRepository(self.redis, self.keys)
        self.webhook_repo = WebhookRepository(self.redis, self.keys)
        self.audit = AuditLog(
            self.redis,
            self.keys,
            max_entries=self.settings.audit_max_entries,
            retention_days=self.settings.audit_retention_days,
        )
        self.api_keys = ApiKeyService(
            ApiKeyRepository(self.redis, self.keys), pepper=self.settings.api_key_pepper
        )
        self.runner_commands = RunnerCommands(
            self.redis, self.keys.prefix, timeout_seconds=self.settings.runner_command_timeout_seconds
        )
        self.sessions = SessionService(
            self.session_repo,
            self.webhook_repo,
            self.runner_commands,
            delete_blobs=lambda prefix: self.storage.delete_prefix(prefix),
            encrypt_secret=lambda text, context: self.envelope.encrypt_text(text, context=context.encode()),
            mirror=lambda session: write_manifest(
                self.storage, session.id, Manifest(session=mirror_of(session))
            ),
            purge=lambda session_id: enqueue_session_purge(self.redis, session_id),
            max_total=self.settings.max_sessions_total,
        )

        self.message_repo = MessageRepository(
            self.redis,
            self.keys,
            retention_seconds=self.settings.message_retention_days * 86_400,
            max_held=self.settings.max_held_sends_per_session,
        )
        self.messages = MessageService(
            self.settings, self.redis, self.keys, self.session_repo, self.message_repo, lambda: self.storage
        )
        self.batches = BatchRepository(
            self.redis,
            self.keys,
            self.message_repo,
            retention_seconds=self.settings.message_retention_days * 86_400,
        )
        self.bulk = BulkService(
            self.redis,
            self.keys,
            self.session_repo,
            self.messages,
            self.message_repo,
            self.batches,
            TemplateRepository(self.redis, self.keys),
        )

        self.deliveries = DeliveryRepository(self.redis, self.keys)
        self.webhooks = WebhookService(
            self.settings,
            self.webhook_repo,
            self.session_repo,
            self.deliveries,
            lambda: self.delivery_context,
        )

    @cached_property
    def delivery_context(self) -> DeliveryContext:
        """For the test delivery route: the envelope, and one pooled HTTP sender per API process."""
        return DeliveryContext(
            self.settings,
            self.redis,
            self.deliveries,
            self.webhook_repo,
            self.envelope,
            Sender(self.settings.webhook_timeout / 1000),
        )

    @cached_property
    def event_hub(self) -> EventHub:
        """One reader per event stream for every SSE client of this process (`functions.api.event_hub`)."""
        return EventHub(event_log(self.redis, self.settings))

    @cached_property
    def open_streams(self) -> OpenStreams:
        caps = StreamCaps(self.settings.sse_max_streams, self.settings.sse_max_streams_per_key)
        return OpenStreams(self.redis, self.keys, caps)

    @cached_property
    def storage(self) -> BlobStorage:
        return build_storage(self.settings)

    @cached_property
    def envelope(self) -> Envelope:
        return envelope_from_settings(self.settings)

    @cached_property
    def session_engine(self) -> SessionEngine:
        return SessionEngine(self.session_repo, self.runner_commands)

    @cached_property
    def message_actions(self) -> MessageActionService:
        return MessageActionService(self.session_engine, self.message_repo)

    @cached_property
    def chats(self) -> ChatService:
        return ChatService(self.session_engine, self.message_repo)

    @cached_property
    def contacts(self) -> ContactService:
        return ContactService(self.session_engine)

    @cached_property
    def stats(self) -> StatsService:
        return StatsService(self.redis, self.keys, self.session_repo)

    @cached_property
    def search(self) -> SearchService:
        return SearchService(
            self.session_repo,
            self.message_repo,
            MessageSearchIndex(self.redis, self.keys),
            retention_seconds=self.settings.message_retention_days * 86_400,
        )

    @cached_property
    def templates(self) -> TemplateService:
        return TemplateService(self.session_repo, TemplateRepository(self.redis, self.keys), self.messages)

    @cached_property
    def automation(self) -> AutomationService:
        return AutomationService(
            self.session_repo,
            AutomationRuleRepository(self.redis, self.keys),
            TemplateRepository(self.redis, self.keys),
            max_per_session=self.settings.automation_max_per_session,
        )

    @cached_property
    def media_conversion(self) -> MediaConversionService:
        return MediaConversionService(self.settings, self.session_repo)

    @cached_property
    def groups(self) -> GroupService:
        return GroupService(self.session_engine, self.settings, PacingState(self.redis, self.keys))

    @cached_property
    def profile(self) -> ProfileService:
        return ProfileService(self.session_engine, self.settings)

    @cached_property
    def presence(self) -> PresenceService:
        return PresenceService(self.session_engine)

    @cached_property
    def calls(self) -> CallService:
        return CallService(self.session_engine)

    @cached_property
    def labels(self) -> LabelService:
        return LabelService(self.session_engine)

    @cached_property
    def channels(self) -> ChannelService:
        return ChannelService(self.session_engine)

    @cached_property
    def catalog(self) -> CatalogService:
        return CatalogService(self.session_engine)

    @cached_property
    def session_proxy(self) -> SessionProxyService:
        return SessionProxyService(
            self.session_repo,
            seal=lambda text, context: self.envelope.encrypt_text(text, context=context.encode()),
            unseal=lambda token, context: self.envelope.decrypt_text(token, context=context.encode()),
        )

    @cached_property
    def stories(self) -> StoryService:
        repo = StoryRepository(self.redis, self.keys)
        return StoryService(self.session_engine, repo, lambda: self.storage, self.settings)


def services() -> Services:
    """The Services of the current Flask app."""
    wired: Services = current_app.extensions["openwa"]
    return wired
