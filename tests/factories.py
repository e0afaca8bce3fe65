"""Test data. Reference geography comes from the real loaders (see conftest.geo)."""

from __future__ import annotations

import factory

from aman.core.models import Crisis, Mission, User
from aman.core.roles import Role
from aman.geo.models import Country


def country(code: str) -> Country:
    return Country.objects.get(code=code)


class MissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mission
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Embassy {n}")
    country = factory.LazyFunction(lambda: country("IR"))

    @factory.post_generation
    def area(self, create: bool, extracted: list[Country] | None, **kwargs: object) -> None:
        if create:
            self.area.set(extracted or [self.country])


class CrisisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Crisis
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Crisis {n}")
    code = factory.Sequence(lambda n: f"crisis-{n}")
    home_country = factory.LazyFunction(lambda: country("KZ"))
    status = Crisis.Status.OPEN

    @factory.post_generation
    def affected_countries(
        self, create: bool, extracted: list[Country] | None, **kwargs: object
    ) -> None:
        if create:
            self.affected_countries.set(extracted or [country("IR")])

    @factory.post_generation
    def missions(self, create: bool, extracted: list[Mission] | None, **kwargs: object) -> None:
        if create and extracted:
            self.missions.set(extracted)


PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.OPERATOR

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
