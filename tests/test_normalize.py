from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.text.normalize import normalize


def test_unifies_apostrophes_so_one_pattern_matches_all_spellings() -> None:
    assert normalize("кур\u02bcєр") == normalize("кур’єр") == "кур'єр"
    assert normalize("l’arme nucléaire") == "l'arme nucléaire"


def test_keeps_guillemets_and_turns_curly_double_quotes_straight() -> None:
    assert normalize("«Это не блеф»") == "«Это не блеф»"
    assert normalize("“not a bluff”") == '"not a bluff"'


def test_composes_decomposed_letters() -> None:
    decomposed = "nucle\u0301aire, ї"  # é as e + combining acute; ї as і + diaeresis
    assert normalize(decomposed) == "nucléaire, ї"


def test_removes_controls_and_zero_width_characters_but_keeps_paragraphs() -> None:
    raw = "Line\u00a0one\u200b\x07 text\r\n\r\n\r\n\r\nSecond\tparagraph\u00ad here  "
    assert normalize(raw) == "Line one text\n\nSecond paragraph here"


def test_control_between_words_keeps_them_apart() -> None:
    assert normalize("alpha\x0bbeta\u2028gamma") == "alpha\nbeta\ngamma"


@settings(max_examples=400)
@given(st.text())
def test_normalisation_is_idempotent_and_never_raises(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "M", "N", "P", "Z"))))
def test_letters_and_digits_survive(text: str) -> None:
    kept = [ch for ch in normalize(text) if ch.isalnum()]
    import unicodedata

    # U+02BC is a letter that Ukrainian uses as its apostrophe: it becomes ' on purpose
    expected = [ch for ch in unicodedata.normalize("NFC", text)
                if ch.isalnum() and ch != "\u02bc"]
    assert kept == expected


def test_noncharacters_are_dropped() -> None:
    # U+FFFE/U+FFFF end XML writers (the Atom feed); no text needs them
    assert normalize("\ufffe\uffff title \ufdd0 x \U0001fffe y") == "title x y"


def test_terminal_escape_sequences_go_whole() -> None:
    text = "Evil\x1b[2J\x1b]8;;http://x\x1b\\Desk\x1b]0;title\x07 post"
    assert normalize(text) == "EvilDesk post" == normalize(normalize(text))
