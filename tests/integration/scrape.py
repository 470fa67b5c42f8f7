"""Reading `GET /api/metrics` the way Prometheus does: the text format, parsed by prometheus-client's own
parser, so a test sees exactly the series a scraper would."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """The samples of one scrape, looked up by sample name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples = [sample for family in self.families.values() for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The one sample called `name` whose labels include `labels`; AssertionError if none or several."""
        found = [s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items()]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return float(found[0])

    def has(self, name: str) -> bool:
        return any(sample.name == name for sample in self.samples)

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [dict(sample.labels) for sample in self.samples if sample.name == name]


def scrape(client: Any, headers: dict[str, str]) -> Scrape:
    """GET /api/metrics with a Flask test client; asserts a 200 in the Prometheus text format."""
    response = client.get("/api/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return Scrape(response.get_data(as_text=True))
