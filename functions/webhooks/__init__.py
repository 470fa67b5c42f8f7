"""Webhook delivery and live events: envelope and signing, SSRF guard, filters, sender, dispatch.

Producers call `functions.webhooks.dispatch.publish_event`; `openwa worker` runs the delivery jobs
(`functions.jobs.webhook_delivery`) and the maintenance loop (`functions.webhooks.maintenance`).
"""
