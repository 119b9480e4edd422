"""A person named in a form: 「王伟（财务科）」 tells namesakes apart; brackets of either width."""
from engine.people.directory import LOGIN_PATTERN, name_and_unit


def test_a_name_with_its_unit_in_brackets():
    assert name_and_unit("王伟（财务科）") == ("王伟", "财务科")
    assert name_and_unit(" 王伟 (财务科) ") == ("王伟", "财务科")
    assert name_and_unit("王伟") == ("王伟", None)
    assert name_and_unit("") == ("", None)


def test_an_account_name_is_letters_digits_or_cjk():
    assert LOGIN_PATTERN.fullmatch("wangwei2") and LOGIN_PATTERN.fullmatch("王伟") and LOGIN_PATTERN.fullmatch("wang.wei-2")
    assert not LOGIN_PATTERN.fullmatch("王") and not LOGIN_PATTERN.fullmatch("wang wei") and not LOGIN_PATTERN.fullmatch("a;b")
