"""Messages follow Accept-Language: English by default, Brazilian Portuguese on request."""

import pytest

pytestmark = pytest.mark.django_db


def test_english_is_the_default(client):
    assert client.get("/api/missing/").json() == {"detail": "Not found."}


def test_portuguese_for_drf_messages(client):
    response = client.get("/api/missing/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.json() == {"detail": "Não encontrado."}


def test_portuguese_for_devlab_own_messages(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    response = client.post(
        "/api/missing/", data="x" * 100, content_type="application/json", HTTP_ACCEPT_LANGUAGE="pt-br"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Corpo da requisição grande demais."}
