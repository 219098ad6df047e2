"""Detection: surface forms, matching on word boundaries, entities, polarity."""

from __future__ import annotations

import pytest

from tocsin.indicators.detect import Detector
from tocsin.indicators.forms import FormGenerator, match_key


def categories(detector: Detector, text: str, language: str) -> set[str]:
    return {e.category for e in detector.detect_sentence(text, language).evidence}


def polarity(detector: Detector, text: str, language: str, category: str) -> str:
    found = [e for e in detector.detect_sentence(text, language).evidence
             if e.category == category]
    assert found, f"no {category} evidence in {text!r}"
    return found[0].polarity


def test_russian_and_ukrainian_phrases_are_inflected_together() -> None:
    forms = FormGenerator()
    assert {"ядерного оружия", "ядерным оружием", "ядерному оружию"} <= forms.forms(
        "ядерное оружие", "ru")
    assert {"ядерної зброї", "ядерною зброєю", "ядерну зброю"} <= forms.forms(
        "ядерна зброя", "uk")
    # the genitive dependent stays as written
    assert "оружием массового поражения" in forms.forms("оружие массового поражения", "ru")
    assert "оружием массового поражением" not in forms.forms("оружие массового поражения", "ru")
    # names: every word inflects; no readings of other words ("кий" for "Киев")
    assert "владимира путина" in forms.forms("Владимир Путин", "ru", name=True)
    assert "кия" not in forms.forms("Киев", "ru", name=True)
    assert {"armes nucléaires"} <= forms.forms("arme nucléaire", "fr")
    assert {"nuclear weapons"} <= forms.forms("nuclear weapon", "en")
    assert match_key("Ёлка İstanbul") == "елка istanbul"[:len("Ёлка İstanbul")]


@pytest.mark.parametrize(("text", "language", "category"), [
    ("Лукашенко заявил, что тактическое ядерное оружие уже размещено в Белоруссии.", "ru",
     "deployment"),
    ("Росія розмістила тактичну ядерну зброю в Білорусі.", "uk", "deployment"),
    ("Les forces de dissuasion ont été placées en régime spécial d'alerte.", "fr", "readiness"),
    ("Минобороны провело испытание ракеты «Сармат».", "ru", "test"),
    ("Russia suspended its participation in New START.", "en", "arms-control"),
])
def test_inflected_and_elided_forms_are_found(detector: Detector, text: str, language: str,
                                              category: str) -> None:
    assert category in categories(detector, text, language)


def test_offsets_point_into_the_text(detector: Detector) -> None:
    text = ("Первый абзац без ядерных тем.\n\nПутин пригрозил Западу ядерным оружием. "
            "Песков добавил, что Россия никому не угрожает.")
    found = detector.detect(text, "ru")
    assert found.evidence
    for evidence in found.evidence:
        assert text[evidence.start:evidence.end] == evidence.sentence
        for (a, b), term in zip(evidence.spans, evidence.terms, strict=True):
            assert text[a:b] == term
    for entity in found.entities:
        assert text[entity.start:entity.end] == entity.text
    names = {e.name for e in found.entities}
    assert {"Vladimir Putin", "Dmitry Peskov"} <= names


def test_terms_match_whole_words_only(detector: Detector) -> None:
    # "test" is a term; inside "testimony" it is not
    assert categories(detector, "The missile maker tested the Sarmat.", "en") == {"test"}
    # (the Sarmat itself is still spoken of: the general sign of rhetoric, not a test)
    assert categories(detector, "The missile maker gave testimony about the Sarmat contract.",
                      "en") == {"rhetoric"}


def test_ambiguous_names_need_military_context(detector: Detector) -> None:
    person = detector.detect_sentence("Искандер забил два гола в матче с «Зенитом».", "ru")
    assert not any(e.type == "weapon" for e in person.entities)
    missile = detector.detect_sentence("Армия нанесла удар ракетами «Искандер» по Харькову.",
                                       "ru")
    assert any(e.id == "iskander-m" for e in missile.entities)
    # a routine strike is context, not a nuclear warning sign (issue 9)
    assert {e.category for e in missile.evidence} == {"context"}


def test_strategic_class_strikes_are_use_routine_ones_context(detector: Detector) -> None:
    cases = [
        ("uk", "Вранці росіяни атакували Дніпро міжконтинентальною балістичною ракетою.", "use"),
        ("en", "Russia fired an Oreshnik missile at Dnipro on Thursday.", "use"),
        ("ru", "Ночью Одессу атаковали ракетами «Калибр».", "context"),
        ("en", "Russia launched Kh-101 cruise missiles at Lviv overnight.", "context"),
    ]
    for language, text, category in cases:
        found = {e.category for e in detector.detect_sentence(text, language).evidence}
        assert found == {category}, (text, found)


def test_markup_and_quotes_do_not_break_phrases(detector: Detector) -> None:
    """Telegram and Markdown markup, quotation marks inside a phrase, links and hard line
    breaks are read past; offsets still point into the text as stored."""
    text = ("⚡️ **Медведев** снова пригрозил Западу «ядерным» оружием "
            "[подробнее](https://t.me/x/ядерное-оружие)")
    found = detector.detect_sentence(text, "ru")
    assert {e.category for e in found.evidence} == {"rhetoric"}
    # the specific threat, through the quotes: not just the general sign
    threat = [e for e in found.evidence if e.indicator == "rhetoric.explicit-threat"]
    assert threat and "ядерным» оружием" in threat[0].terms
    for evidence in found.evidence:
        for (start, end), term in zip(evidence.spans, evidence.terms, strict=True):
            assert text[start:end] == term
        assert all("t.me" not in term for term in evidence.terms)
    wrapped = detector.detect_sentence("Russia is blackmailing the world with nuclear\n"
                                       "weapons, the president said.", "en")
    assert "nuclear\nweapons" in {t for e in wrapped.evidence for t in e.terms}
    link_only = detector.detect_sentence(
        "Read the [statement](https://example.org/nuclear-weapons-threat) here.", "en")
    assert not link_only.evidence


def test_proper_names_must_be_capitalised(detector: Detector) -> None:
    found = detector.detect_sentence("the kremlin of the old town was a museum.", "en")
    assert not any(e.id == "kremlin" for e in found.entities)


@pytest.mark.parametrize(("text", "language", "category", "expected"), [
    ("Putin threatened the West with nuclear weapons.", "en", "rhetoric", "asserted"),
    ("We threaten no one with nuclear weapons, Peskov said.", "en", "rhetoric", "denied"),
    ("Nous ne menaçons personne avec l'arme nucléaire, a dit Peskov.", "fr", "rhetoric", "denied"),
    ("Мы никому не угрожаем ядерным оружием, заявил Песков.", "ru", "rhetoric", "denied"),
    ("Ми нікому не погрожуємо ядерною зброєю, заявив Пєсков.", "uk", "rhetoric", "denied"),
    ("Russia could use nuclear weapons if NATO troops entered Ukraine, Medvedev said.", "en",
     "rhetoric", "hypothetical"),
    ("\"This is not a bluff,\" Putin said of his nuclear warning.", "en", "rhetoric", "asserted"),
    ("Путин заявил, что это не блеф и Россия применит ядерное оружие.", "ru", "rhetoric",
     "asserted"),
    ("Moscow accused Kyiv of preparing a dirty bomb.", "en", "rhetoric", "reported"),
    ("Москва обвинила Киев в подготовке «грязной бомбы».", "ru", "rhetoric", "reported"),
])
def test_polarity(detector: Detector, text: str, language: str, category: str,
                  expected: str) -> None:
    assert polarity(detector, text, language, category) == expected


@pytest.mark.parametrize(("text", "language"), [
    ("The Senate leader threatened to use the nuclear option on judicial nominees.", "en"),
    ("Le film Oppenheimer raconte la naissance de la bombe atomique.", "fr"),
    ("В 1962 году мир стоял на грани ядерной войны во время Карибского кризиса.", "ru"),
    ("Westinghouse постачатиме ядерне паливо для українських АЕС.", "uk"),
    ("Iskander scored twice and was named man of the match.", "en"),
    ("Ножи «Кинжал» продаются в каждом охотничьем магазине.", "ru"),
])
def test_hard_negatives_stay_quiet(detector: Detector, text: str, language: str) -> None:
    assert categories(detector, text, language) == set()


def test_power_plant_news_is_only_ever_nuclear_safety(detector: Detector) -> None:
    text = "Shelling cut the last power line to the Zaporizhzhia nuclear plant, the IAEA said."
    assert categories(detector, text, "en") == {"nuclear-safety"}


def test_weapon_names_have_plurals_even_when_the_dictionary_lacks_them(
        detector: Detector) -> None:
    forms = FormGenerator()
    assert {"іскандери", "іскандерів"} <= forms.forms("Іскандер", "uk", name=True, plural=True)
    assert "искандеры" in forms.forms("Искандер", "ru", name=True, plural=True)
    found = detector.detect_sentence(
        "Росія розмістила ракетні комплекси «Іскандери» біля кордону, повідомили військові.",
        "uk")
    assert "iskander-m" in {e.id for e in found.entities}


def test_exclusions_and_polarity_cues_keep_to_their_clause(detector: Detector) -> None:
    def found(text: str, language: str) -> dict[str, str]:
        return {e.category: e.polarity
                for e in detector.detect_sentence(text, language).evidence}

    # a denial in one clause does not deny the threat in the next
    assert found("Peskov denied any such plans, but Medvedev again threatened Europe with "
                 "nuclear weapons.", "en").get("rhetoric") == "asserted"
    # a comparison with history does not make a present warning history
    assert "rhetoric" in found("Not since the Cuban missile crisis in 1962 has the risk of "
                               "nuclear war been this high, the president warned.", "en")
    assert "rhetoric" in found("Как и в 1962 году, Москва сегодня снова угрожает Западу "
                               "ядерным оружием.", "ru")
    # history with no present actor stays history
    assert found("Historians recall that in 1962 the world came close to nuclear war.",
                 "en") == {}
    assert found("В 1962 году мир оказался на грани ядерной войны.", "ru") == {}
    # a nominations list is personnel news in every clause
    assert found("J. Doe, to be an Assistant Secretary of State (International Security and "
                 "Non-Proliferation).", "en") == {}


def test_brackets_and_quoted_terms_keep_their_meaning(detector: Detector) -> None:
    """A bracket does not cut a denial from what it denies; a term written with
    quotation marks in the pack ("объект «Укрытие»") matches like the text around it."""
    found = detector.detect_sentence("Moscow denied (on Tuesday) that it had moved nuclear "
                                     "warheads to Belarus.", "en").evidence
    assert found and {e.polarity for e in found} == {"denied"}
    found = detector.detect_sentence("Кремль опроверг (в среду) сообщения о переброске "
                                     "ядерных боеголовок в Белоруссию.", "ru").evidence
    assert found and {e.polarity for e in found} == {"denied"}
    assert not detector.detect_sentence("In 1962 (during the Cuban standoff) the Soviet Union "
                                        "deployed nuclear missiles to Cuba.", "en").evidence
    shelter = detector.detect_sentence("Объект «Укрытие» на Чернобыльской АЭС повреждён "
                                       "ударом дрона.", "ru").evidence
    assert {e.category for e in shelter} == {"nuclear-safety"}


def test_hard_negatives_of_real_streams(detector: Detector) -> None:
    """Iodine in chemistry, a 'thermonuclear' conductor, bookmakers' odds, a film, a
    civil nuclear deal: no nuclear warning sign."""
    for language, text in [
        ("en", "Chemists found that iodine speeds up the reaction in seawater samples."),
        ("ru", "Термоядерный дирижёр снова поразил публику в Большом зале."),
        ("en", "Bookmakers cut the odds on a nuclear strike this year."),
        ("ru", "В прокат выходит фильм о ядерном взрыве над Москвой."),
        ("en", "The two leaders signed a civil nuclear cooperation agreement on small "
               "modular reactors."),
    ]:
        assert not detector.detect_sentence(text, language).evidence, text


@pytest.mark.parametrize("joint", ["\n\n", "\n", " "])
def test_a_one_megabyte_document_is_read_whole(detector: Detector, text_stage, joint: str) -> None:
    """No step grows faster than the text: a 1 MB report (paragraphs, hard-wrapped lines,
    or one endless line) is cleaned, split, scanned and read for attributions, and the
    warning signs in its middle and at its end are found where they are."""
    from tocsin.model import RawItem
    from tocsin.stories.attribution import AttributionExtractor, SourceIndex

    filler = ("The regional council met on Tuesday to discuss the budget for roads, schools "
              "and the new hospital wing, the minutes show. ") * 4
    sign = ("Russia put its nuclear forces on high alert, according to a senior US "
            "official.")
    parts = [filler] * (995_000 // len(filler))  # just under max_document_chars
    parts.insert(len(parts) // 2, sign)
    parts.append(sign)
    doc = text_stage.prepare(RawItem(origin="big", source="Desk", text=joint.join(parts)))
    assert len(doc.text) > 990_000 and doc.language == "en"
    found = detector.detect_document(doc)
    assert [e.indicator for e in found.evidence] == ["readiness.alert-raised"] * 2
    middle, end = found.evidence
    assert doc.text[middle.start:middle.end] == doc.text[end.start:end.end] == sign
    assert end.end == len(doc.text) and middle.start < len(doc.text) // 2 < end.start
    attributions = AttributionExtractor(SourceIndex([])).extract_document(
        doc.title, doc.text, doc.language)
    assert [a.speaker for a in attributions] == ["a senior US official"] * 2
