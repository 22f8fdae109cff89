# Seeds the soak's organisation inside the web container (tools/soak_stack.sh pipes this file into
# `manage.py shell`): four projects, an officer, an engineer of two projects and an auditor with throw-away
# passwords, and one token per project. Prints one JSON line that bench/soak.py reads.
import json
import secrets

from django.contrib.auth import get_user_model

from greenesg.accounts.models import Membership, Organisation, Project, Role, TokenScope
from greenesg.accounts.services import api_token_create

org, _ = Organisation.objects.get_or_create(slug="soak", defaults={"name": "Soak test"})
projects = [
    Project.objects.get_or_create(organisation=org, slug=slug, defaults={"name": f"Soak {slug}"})[0]
    for slug in ("p1", "p2", "p3", "p4")
]
users = {}
for role, name in ((Role.OFFICER, "soak-officer"), (Role.ENGINEER, "soak-engineer"), (Role.AUDITOR, "soak-auditor")):
    password = secrets.token_urlsafe(18)
    user, _ = get_user_model().objects.get_or_create(username=name)
    user.set_password(password)
    user.save()
    membership, _ = Membership.objects.update_or_create(user=user, organisation=org, defaults={"role": role})
    if role == Role.ENGINEER:
        membership.projects.set(projects[:2])
    users[role.value] = {"username": name, "password": password}
scopes = [TokenScope.INGEST.value, TokenScope.READ.value, TokenScope.CI_GATE.value]
tokens = {p.slug: api_token_create(project=p, name="soak", created_by=None, scopes=scopes).raw for p in projects}
print(
    "SOAK_SEED "
    + json.dumps(
        {
            "org": org.slug,
            "projects": [p.slug for p in projects],
            "users": users,
            "engineer_projects": [p.slug for p in projects[:2]],
            "tokens": tokens,
        }
    )
)
