"""factory-boy factories for the test suite."""

import factory
from django.contrib.auth import get_user_model

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True


class NoteFactory(factory.django.DjangoModelFactory):
    """A note made by ``notes.services.note_create``, as the API makes them (signals, timestamps)."""

    class Meta:
        model = "notes.Note"

    owner = factory.SubFactory(UserFactory)
    text = factory.Sequence(lambda n: f"Note number {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from notes.services import note_create

        return note_create(**kwargs)
