import pytest

from tocsin.text.sentences import SentenceSplitter

CASES = [
    ("en", 'Mr. Smith flew to Washington on Jan. 5. He said "No." Then he left! '
           "U.S. officials agreed.",
     ["Mr. Smith flew to Washington on Jan. 5.", 'He said "No."', "Then he left!",
      "U.S. officials agreed."]),
    ("fr", "M. Macron a parlé à 10 h. « Nous ne menaçons personne. » Puis il est parti.",
     ["M. Macron a parlé à 10 h.", "« Nous ne menaçons personne. »", "Puis il est parti."]),
    ("ru", "Т. е. это так. В. В. Путин заявил: «Это не блеф». С 1 янв. 2023 г. всё изменилось.",
     ["Т. е. это так.", "В. В. Путин заявил: «Это не блеф».",
      "С 1 янв. 2023 г. всё изменилось."]),
    ("uk", "Т. зв. «ядерний шантаж» триває. 24 лют. 2022 р. почалося вторгнення. Що далі?",
     ["Т. зв. «ядерний шантаж» триває.", "24 лют. 2022 р. почалося вторгнення.", "Що далі?"]),
]


@pytest.mark.parametrize(("language", "text", "expected"), CASES)
def test_splits_with_abbreviations_initials_and_quotes(language: str, text: str,
                                                       expected: list[str]) -> None:
    spans = SentenceSplitter().split(text, language)
    assert [text[a:b] for a, b in spans] == expected


def test_sentences_never_cross_a_paragraph_break() -> None:
    text = "Headline without a full stop\n\nThe body starts here. It goes on."
    spans = SentenceSplitter().split(text, "en")
    assert [text[a:b] for a, b in spans] == [
        "Headline without a full stop", "The body starts here.", "It goes on."]


def test_offsets_point_into_the_text_and_are_ordered() -> None:
    text = "Один. Два!  Три?\n\nЧотири… П'ять."
    spans = SentenceSplitter().split(text, "uk")
    assert spans == sorted(spans)
    for a, b in spans:
        assert 0 <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == \
        text.replace(" ", "").replace("\n", "")


def test_telegram_lines_and_list_items_are_sentences_hard_wraps_are_not() -> None:
    splitter = SentenceSplitter()
    post = ("⚡️ Медведев снова пригрозил Европе\n⚡️ Песков опроверг слухи о мобилизации\n"
            "🇺🇦 Зеленский выступил в Раде")
    assert [post[a:b] for a, b in splitter.split(post, "ru")] == post.split("\n")
    listing = "Key points:\n- **Sanctions** widened\n- Talks paused\n1. first\n2. second"
    assert len(splitter.split(listing, "en")) == 5
    wrapped = "The citizen is [finally\nhome](https://example.org/x) thanks to the talks."
    assert splitter.split(wrapped, "en") == [(0, len(wrapped))]
