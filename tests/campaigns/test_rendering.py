"""Placeholders and the safe, limited formatting of messages (rendering.py), and the Renderer's links."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django_scopes import scope

from associations.campaigns import rendering, tokens
from associations.campaigns.services import Renderer
from associations.membership.services import member_from_renewal_token
from tests.factories import make_member, set_tariffs


def html_of(text: str, values: dict | None = None, link=lambda url: url) -> str:
    base = dict.fromkeys(rendering.PLACEHOLDERS, "")
    return rendering.fill_html(rendering.body_to_html(text), {**base, **(values or {})}, link)


def test_unknown_placeholder_is_refused_naming_it_and_listing_the_known_ones():
    with pytest.raises(rendering.TemplateError) as error:
        rendering.validate_template("Bonjour {prenom} {civilite},")
    message = str(error.value)
    assert "Champ inconnu : {civilite}." in message
    for name in rendering.PLACEHOLDERS:
        assert f"{{{name}}}" in message


def test_several_unknown_placeholders_are_all_named_once():
    with pytest.raises(rendering.TemplateError) as error:
        rendering.validate_template("{foo} {bar} {foo} {nom}")
    assert str(error.value).startswith("Champs inconnus : {foo}, {bar}.")


@pytest.mark.parametrize("text", ["Bonjour {prenom", "Bonjour prenom}", "Un { seul"])
def test_lone_brace_is_refused_with_a_french_explanation(text):
    with pytest.raises(rendering.TemplateError, match="Accolade non fermée"):
        rendering.validate_template(text)


def test_format_spec_or_attribute_is_refused():
    with pytest.raises(rendering.TemplateError, match="mal formé"):
        rendering.validate_template("{montant:>10}")
    with pytest.raises(rendering.TemplateError, match="inconnu"):
        rendering.validate_template("{nom.__class__}")


def test_known_placeholders_and_doubled_braces_are_accepted_and_braces_are_literal():
    text = "Bonjour {prenom} {nom} de {association} : {{ pas un champ }}"
    rendering.validate_template(text)  # no error
    assert rendering.parse_fields(text) == ["prenom", "nom", "association"]
    filled = rendering.fill_text(text, {"prenom": "Alice", "nom": "Martin", "association": "CPTS"})
    assert filled == "Bonjour Alice Martin de CPTS : { pas un champ }"
    assert "{ pas un champ }" in html_of(text)


def test_html_escapes_what_the_coordinator_typed():
    html = html_of('<script>alert("x")</script> & <b>gras</b> <a href="javascript:alert(1)">lien</a>')
    assert "<script>" not in html and "<b>" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&amp;" in html and "&lt;b&gt;gras&lt;/b&gt;" in html


def test_values_are_escaped_too():
    html = html_of("Bonjour {prenom} {nom}", {"prenom": "<img src=x onerror=alert(1)>", "nom": "O'Brien & Fils"})
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "O&#x27;Brien &amp; Fils" in html


def test_bold_italic_paragraphs_and_line_breaks():
    html = html_of("**Important** : lisez *ceci*.\nDeuxième ligne\n\nNouveau paragraphe")
    assert "<strong>Important</strong>" in html
    assert "<em>ceci</em>" in html
    assert html.count("<p ") == 2
    assert "lisez <em>ceci</em>.<br>Deuxième ligne" in html


def test_stars_that_are_not_formatting_stay_text():
    html = html_of("3 * 4 = 12 et 2 ** 3 = 8")
    assert "<em>" not in html and "<strong>" not in html


def test_bullet_lists():
    html = html_of("Au programme :\n\n- la **réunion**\n- le vote\n* le repas")
    assert re.search(r"<ul[^>]*><li>la <strong>réunion</strong></li><li>le vote</li><li>le repas</li></ul>", html)


def test_web_addresses_become_links_without_trailing_punctuation():
    html = html_of("Voir https://cpts.example.org/agenda?x=1&y=2. Merci")
    assert '<a href="https://cpts.example.org/agenda?x=1&amp;y=2">https://cpts.example.org/agenda?x=1&amp;y=2</a>.' \
        in html


def test_renewal_link_placeholder_renders_as_a_link():
    url = "http://testserver/p/alpha/renouveler/abc/"
    html = html_of("Cliquez : {lien_renouvellement}", {"lien_renouvellement": url})
    assert f'<a href="{url}" style="color:#0b5ed7;font-weight:bold">{rendering.RENEWAL_LINK_LABEL}</a>' in html
    text = rendering.fill_text("Cliquez : {lien_renouvellement}", {"lien_renouvellement": url})
    assert text == f"Cliquez : {url}"


def test_link_function_wraps_every_link():
    wrapped = html_of("A {lien_renouvellement} B https://exemple.fr/doc",
                      {"lien_renouvellement": "https://exemple.fr/renouveler"},
                      link=lambda url: "https://suivi.test/?u=" + url)
    assert 'href="https://suivi.test/?u=https://exemple.fr/renouveler"' in wrapped
    assert 'href="https://suivi.test/?u=https://exemple.fr/doc"' in wrapped


def test_renderer_with_click_tracking_wraps_links_in_signed_redirects(association):
    set_tariffs(association)
    member = make_member(association, first_name="Alice", last_name="Martin", email="alice@exemple.fr")
    with scope(association=association):
        renderer = Renderer(association, subject="Objet", kind_label="campagne", track_clicks=True,
                            body="Voir https://exemple.fr/doc?a=1&b=2 et {lien_renouvellement}")
        fields = renderer.render(member, "uid123")
    hrefs = re.findall(r'href="([^"]+)"', fields["body_html"])
    tracked = [h for h in hrefs if "/p/alpha/e/c/" in h]
    assert len(tracked) == 2
    targets = set()
    for href in tracked:
        token = unquote(href.rstrip("/").rpartition("/")[2])
        data, problem = tokens.read_tracking_token(association.pk, token)
        assert problem is None and data["u"] == "uid123"
        targets.add(data["l"])
    # The real addresses are signed (not their HTML-escaped form): the redirect leads where the text said.
    assert "https://exemple.fr/doc?a=1&b=2" in targets
    (renewal,) = targets - {"https://exemple.fr/doc?a=1&b=2"}
    assert renewal.startswith("http://testserver/p/alpha/renouveler/")
    with scope(association=association):
        found, problem = member_from_renewal_token(association, renewal.rstrip("/").rpartition("/")[2])
    assert problem is None and found == member
    # The text version keeps the real addresses (no tracking in plain text).
    assert "https://exemple.fr/doc?a=1&b=2" in fields["body_text"]


def test_renderer_without_click_tracking_keeps_direct_links(association):
    member = make_member(association, first_name="Alice", last_name="Martin", email="alice@exemple.fr")
    with scope(association=association):
        fields = Renderer(association, subject="Objet", body="Voir https://exemple.fr/doc",
                          kind_label="campagne").render(member, "uid123")
    assert '<a href="https://exemple.fr/doc">' in fields["body_html"]
    assert "/e/c/" not in fields["body_html"]
    assert "/e/o/" not in fields["body_html"]  # no open pixel either (off by default)
