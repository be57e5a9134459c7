"""The browsable API: log in with a session, see your notes as HTML, create one with the form (CSRF enforced)."""

import pytest
from django.test import Client

from notes.models import Note
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, note_url

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture
def browser(user, password) -> Client:
    """A browser logged in through /api-auth/login/, with Django's CSRF checks on."""
    client = Client(enforce_csrf_checks=True)
    client.get("/api-auth/login/")
    response = client.post(
        "/api-auth/login/",
        {
            "username": user.username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            "next": NOTES_URL,
        },
    )
    assert (response.status_code, response["Location"]) == (302, NOTES_URL)
    return client


def _csrf(client: Client) -> str:
    return client.cookies["csrftoken"].value


def test_the_list_is_an_html_page_with_the_callers_notes(browser, user, other_user):
    NoteFactory(owner=user, text="Alice's shopping list")
    NoteFactory(owner=other_user, text="Bob's diary")
    response = browser.get(NOTES_URL, **HTML)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Alice&#x27;s shopping list" in page
    assert "Bob" not in page


def test_the_list_page_has_the_create_form(browser):
    page = browser.get(NOTES_URL, **HTML).content.decode()
    assert f'<form action="{NOTES_URL}" method="POST"' in page
    assert '<textarea name="text"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_the_list_page_has_the_search_and_ordering_controls(browser):
    page = browser.get(NOTES_URL, **HTML).content.decode()
    assert '<input type="text" name="search"' in page
    for ordering in ["created_at", "-created_at", "updated_at", "-updated_at"]:
        assert f'href="{NOTES_URL}?ordering={ordering}"' in page


def test_the_html_form_creates_a_note_with_the_csrf_token(browser, user):
    response = browser.post(
        NOTES_URL, {"text": "  Written in the form\r\nsecond line ", "csrfmiddlewaretoken": _csrf(browser)}, **HTML
    )
    assert response.status_code == 201
    assert response["Content-Type"].startswith("text/html")
    note = Note.objects.get()
    assert (note.owner, note.text) == (user, "Written in the form\r\nsecond line")


def test_a_form_post_without_the_csrf_token_is_refused_and_creates_nothing(browser):
    response = browser.post(NOTES_URL, {"text": "Forged"}, **HTML)
    assert response.status_code == 403
    assert not Note.objects.exists()


def test_a_blank_form_shows_the_error_and_creates_nothing(browser):
    response = browser.post(NOTES_URL, {"text": "   ", "csrfmiddlewaretoken": _csrf(browser)}, **HTML)
    assert response.status_code == 400
    assert "This field may not be blank." in response.content.decode()
    assert not Note.objects.exists()


def test_the_detail_page_of_an_own_note_renders_and_someone_elses_is_404(browser, user, other_user):
    own = NoteFactory(owner=user, text="Mine")
    foreign = NoteFactory(owner=other_user, text="Not yours")
    assert browser.get(note_url(own.pk), **HTML).status_code == 200
    response = browser.get(note_url(foreign.pk), **HTML)
    assert response.status_code == 404
    assert "Not yours" not in response.content.decode()


def test_an_anonymous_browser_is_not_shown_any_note(user):
    NoteFactory(owner=user, text="Private")
    response = Client().get(NOTES_URL, **HTML)
    assert response.status_code == 401
    assert "Private" not in response.content.decode()
