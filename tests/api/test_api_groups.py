"""Add your group and edit its profile, through the API and the page: a confirmed person adds
a published profile and is its admin (so they can ask for introductions at once); its admins
edit it; the pages lead there from where an organiser without a group gets stuck."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from accounts_support import Signed, page_csrf, sign_up, verify
from api_support import hdr
from fastapi import FastAPI
from fastapi.testclient import TestClient

BEEKEEPERS = "Neighbourhood beekeepers lending hive tools and teaching children about pollinators."


@pytest.fixture
def made(client: TestClient, keys: dict[str, str]) -> Iterator[list[str]]:
    """Ids of the profiles a test adds, deleted after it (the engine is shared by the session's
    tests, whose results must not gain these)."""
    ids: list[str] = []
    yield ids
    for org_id in ids:
        client.delete(f"/v1/organisations/{org_id}", headers=hdr(keys["admin"]))


def confirmed(app: FastAPI) -> Signed:
    person = sign_up(app)
    verify(app, person.email)
    return person


def add_group(person: Signed, made: list[str], **fields: object) -> dict[str, object]:
    body = {
        "name": f"Hive Friends {uuid.uuid4().hex[:6]}",
        "sector": "community",
        "description": BEEKEEPERS,
        "offers": ["hive tools on loan"],
        "city": "Providence",
        "region": "RI",
        "country": "US",
        "contact": "hives@example.org",
        **fields,
    }
    r = person.client.post("/v1/me/organisations", json=body, headers=person.headers())
    assert r.status_code == 201, r.text
    made.append(str(r.json()["id"]))
    return dict(r.json())


def test_a_confirmed_person_adds_a_group_and_is_its_admin(
    app: FastAPI, client: TestClient, keys: dict[str, str], made: list[str]
) -> None:
    ana = confirmed(app)
    org = add_group(ana, made)
    assert org["contact"] == "hives@example.org"  # its admin sees how partners reach it
    public = client.get(f"/v1/organisations/{org['id']}").json()
    assert public["name"] == org["name"] and "contact" not in public
    me = ana.client.get("/v1/me").json()
    assert {(m["organisation_id"], m["role"]) for m in me["memberships"]} == {(org["id"], "admin")}
    found = client.get("/v1/organisations", params={"name": str(org["name"])}).json()
    assert [o["id"] for o in found["items"]] == [org["id"]]
    # in the index at once: a need about it finds it
    rec = client.post(
        "/v1/recommendations",
        json={"text": "Children want to learn beekeeping; we need hive tools.", "limit": 20},
        headers=hdr(keys["reader"]),
    ).json()
    assert org["id"] in [m["id"] for m in rec["results"]]


def test_what_a_group_cannot_set_or_do_before_confirming(
    app: FastAPI, client: TestClient, made: list[str]
) -> None:
    ben = sign_up(app)  # not confirmed
    body = {"name": "Unconfirmed Hives", "sector": "community", "description": BEEKEEPERS}
    r = ben.client.post("/v1/me/organisations", json=body, headers=ben.headers())
    assert r.status_code == 403 and "Confirm your e-mail" in r.json()["detail"]
    assert (
        client.get("/v1/organisations", params={"name": "Unconfirmed Hives"}).json()["items"] == []
    )
    cy = confirmed(app)
    for extra in ({"owner": "key_x"}, {"sources": ["irs:1"]}, {"published": False}, {"id": "x"}):
        r = cy.client.post("/v1/me/organisations", json={**body, **extra}, headers=cy.headers())
        assert r.status_code == 422, (extra, r.text)
    r = cy.client.post("/v1/me/organisations", json=body)  # no CSRF header
    assert r.status_code == 403
    r = TestClient(app).post("/v1/me/organisations", json=body)  # no session
    assert r.status_code == 401


def test_its_admins_edit_it_and_others_cannot(
    app: FastAPI, client: TestClient, keys: dict[str, str], made: list[str]
) -> None:
    ana = confirmed(app)
    org = add_group(ana, made)
    path = f"/v1/me/organisations/{org['id']}"
    r = ana.client.patch(path, json={"city": "Pawtucket"}, headers=ana.headers())
    assert r.status_code == 200, r.text
    assert client.get(f"/v1/organisations/{org['id']}").json()["city"] == "Pawtucket"
    stale = {**ana.headers(), "If-Match": f'"{org["version"]}"'}
    r = ana.client.patch(path, json={"city": "Cranston"}, headers=stale)
    assert r.status_code == 412
    r = ana.client.patch(path, json={"published": False}, headers=ana.headers())
    assert r.status_code == 422 and "published" in r.json()["detail"]
    member = confirmed(app)
    r = member.client.post(f"/v1/organisations/{org['id']}/claims", headers=member.headers())
    claim_id = r.json()["id"]
    approve = f"/v1/organisations/{org['id']}/claims/{claim_id}/approve"
    assert ana.client.post(approve, headers=ana.headers()).status_code == 200
    r = member.client.patch(path, json={"city": "Warwick"}, headers=member.headers())
    assert r.status_code == 403
    outsider = confirmed(app)
    r = outsider.client.patch(path, json={"city": "Warwick"}, headers=outsider.headers())
    assert r.status_code == 404
    assert client.get(f"/v1/organisations/{org['id']}").json()["city"] == "Pawtucket"


def test_the_pages_add_a_group_show_it_as_added_by_its_members_and_edit_it(
    app: FastAPI, made: list[str]
) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    r = anonymous.get("/groups/new")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    ana = confirmed(app)
    page = ana.client.get("/groups/new")
    assert page.status_code == 200 and 'name="description"' in page.text
    form = {
        "csrf_token": page_csrf(page.text),
        "name": "",
        "sector": "community",
        "description": BEEKEEPERS,
        "offers": "hive tools on loan\n\nbeekeeping lessons for children\n",
        "city": "Providence",
        "region": "RI",
        "country": "US",
    }
    r = ana.client.post("/groups/new", data=form)
    assert r.status_code == 422 and "Name: required." in r.text
    assert "beekeeping lessons for children" in r.text  # what was typed is kept
    name = f"Hive Friends {uuid.uuid4().hex[:6]}"
    r = ana.client.post("/groups/new", data={**form, "name": name})
    assert r.status_code == 303, r.text
    org_id = r.headers["location"].removeprefix("/organisations/")
    made.append(org_id)
    profile = ana.client.get(f"/organisations/{org_id}").text
    assert "Added by its own members" in profile
    assert f'href="/organisations/{org_id}/edit"' in profile
    assert "This is my organisation" not in profile  # it is theirs already
    stored = ana.client.get(f"/v1/organisations/{org_id}").json()
    assert stored["offers"] == ["hive tools on loan", "beekeeping lessons for children"]
    edit = ana.client.get(f"/organisations/{org_id}/edit")
    assert edit.status_code == 200 and name in edit.text
    version = re.search(r'name="version" value="(\d+)"', edit.text)
    assert version is not None
    changed = {
        **form,
        "csrf_token": page_csrf(edit.text),
        "name": name,
        "city": "Pawtucket",
        "version": version.group(1),
    }
    r = ana.client.post(f"/organisations/{org_id}/edit", data=changed)
    assert r.status_code == 303, r.text
    assert ana.client.get(f"/v1/organisations/{org_id}").json()["city"] == "Pawtucket"
    # the same form again, from the version it was opened at: someone saved since
    r = ana.client.post(f"/organisations/{org_id}/edit", data={**changed, "city": "Warwick"})
    assert r.status_code == 409 and "saving again replaces their changes" in r.text
    assert 'value="Warwick"' in r.text  # what was typed is kept
    again = re.search(r'name="version" value="(\d+)"', r.text)
    assert again is not None and again.group(1) != version.group(1)
    resave = {**changed, "city": "Warwick", "version": again.group(1)}
    resave["csrf_token"] = page_csrf(r.text)
    assert ana.client.post(f"/organisations/{org_id}/edit", data=resave).status_code == 303
    assert ana.client.get(f"/v1/organisations/{org_id}").json()["city"] == "Warwick"
    other = confirmed(app)
    assert other.client.get(f"/organisations/{org_id}/edit").status_code == 404


def test_an_organiser_without_a_group_is_led_to_add_it(app: FastAPI, client: TestClient) -> None:
    ana = confirmed(app)
    target = client.get("/v1/organisations", params={"page_size": 1}).json()["items"][0]["id"]
    page = ana.client.get(f"/introductions/new?to={target}").text
    assert 'class="add-group" href="/groups/new?next=' in page
    assert 'href="/groups/new"' in ana.client.get("/account").text
    assert 'href="/groups/new"' in client.get("/organisations", params={"q": "zzqx"}).text


def test_the_form_names_the_line_at_fault_and_completes_a_website(
    app: FastAPI, made: list[str]
) -> None:
    """Real data walk: "offers.0: at most 200 characters" named no line a person typed, and
    "www.example.org" was stored, then never shown and refused by the edit form."""
    ana = confirmed(app)
    page = ana.client.get("/groups/new")
    form = {
        "csrf_token": page_csrf(page.text),
        "name": f"Hive Friends {uuid.uuid4().hex[:6]}",
        "sector": "community",
        "description": BEEKEEPERS,
        "offers": "hive tools on loan\n" + "x" * 201,
        "country": "US",
        "website": "www.hive-friends.example",
    }
    r = ana.client.post("/groups/new", data=form)
    assert r.status_code == 422
    assert "What you can offer partners, line 2: at most 200 characters" in r.text
    r = ana.client.post("/groups/new", data={**form, "offers": "\n".join(["bees"] * 55)})
    assert "What you can offer partners: at most 50 lines." in r.text
    r = ana.client.post("/groups/new", data={**form, "offers": "hive tools on loan"})
    assert r.status_code == 303
    org_id = r.headers["location"].removeprefix("/organisations/")
    made.append(org_id)
    org = ana.client.get(f"/v1/organisations/{org_id}").json()
    assert org["website"] == "https://www.hive-friends.example"
    assert (
        'href="https://www.hive-friends.example"' in ana.client.get(f"/organisations/{org_id}").text
    )


def test_a_second_group_of_the_same_name_and_place_is_refused(
    app: FastAPI, made: list[str]
) -> None:
    ana, ben = confirmed(app), confirmed(app)
    first = add_group(ana, made)
    body = {"name": f"  {str(first['name']).upper()} ", "sector": "community"}
    body |= {"description": "Another one.", "city": "Providence", "region": "RI"}
    r = ben.client.post("/v1/me/organisations", json=body, headers=ben.headers())
    assert r.status_code == 409 and f"/organisations/{first['id']}" in r.json()["detail"]
    page = ben.client.get("/groups/new")
    form = {"csrf_token": page_csrf(page.text), "description": BEEKEEPERS, "country": "US"}
    form |= {"name": str(first["name"]), "sector": "community", "region": "RI"}
    r = ben.client.post("/groups/new", data=form)
    assert r.status_code == 409
    assert f'id="listed-already"><a href="/organisations/{first["id"]}"' in r.text
    elsewhere = add_group(ben, made, name=first["name"], region="MA", city="Boston")
    assert elsewhere["id"] != first["id"]  # the same name in another state is another group


def test_adding_a_group_from_an_introduction_comes_back_to_it(
    app: FastAPI, client: TestClient, made: list[str]
) -> None:
    ana = confirmed(app)
    target = client.get("/v1/organisations", params={"page_size": 1}).json()["items"][0]["id"]
    intro = ana.client.get(f"/introductions/new?to={target}").text
    link = re.search(r'class="add-group" href="([^"]+)"', intro)
    assert link is not None and link.group(1).startswith("/groups/new?next=")
    page = ana.client.get(link.group(1).replace("&amp;", "&"))
    assert f"/introductions/new?to={target}" in page.text
    form = {
        "csrf_token": page_csrf(page.text),
        "name": f"Hive Friends {uuid.uuid4().hex[:6]}",
        "sector": "community",
        "description": BEEKEEPERS,
        "country": "US",
        "next": f"/introductions/new?to={target}&rec=",
    }
    r = ana.client.post("/groups/new", data=form)
    assert r.status_code == 303 and r.headers["location"] == form["next"]
    made.append(ana.client.get("/v1/me").json()["memberships"][0]["organisation_id"])
    r = ana.client.post(
        "/groups/new", data={**form, "name": form["name"] + " 2", "next": "//evil.example"}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/organisations/")
    made.append(r.headers["location"].removeprefix("/organisations/"))


def test_asking_an_organisation_no_one_looks_after_says_so(app: FastAPI, made: list[str]) -> None:
    """Real data walk: every registry profile has no members, so a request to one is read by
    no one, and the page promised an answer."""
    ana, ben = confirmed(app), confirmed(app)
    add_group(ana, made)
    managed = add_group(ben, made)
    nobody = ben.client.get("/v1/organisations", params={"page_size": 1}).json()["items"][0]["id"]
    assert 'id="unmanaged"' in ana.client.get(f"/introductions/new?to={nobody}").text
    assert 'id="unmanaged"' not in ana.client.get(f"/introductions/new?to={managed['id']}").text


def test_an_unconfirmed_person_asks_the_page_for_a_new_link(app: FastAPI) -> None:
    ben = sign_up(app)
    page = ben.client.get("/account")
    assert 'action="/account/confirmation"' in page.text
    r = ben.client.post("/account/confirmation", data={"csrf_token": page_csrf(page.text)})
    assert r.status_code == 200 and "A new confirmation link is on its way" in r.text
    verify(app, ben.email)  # the newest link works
    assert 'action="/account/confirmation"' not in ben.client.get("/account").text


def _search(person: Signed, **fields: str) -> str:
    page = person.client.get("/")
    assert page.status_code == 200
    form = {"csrf_token": page_csrf(page.text), "text": BEEKEEPERS, "place": "Providence, RI"}
    r = person.client.post("/", data={**form, **fields})
    assert r.status_code == 200, r.text
    return r.text


def test_the_page_searches_for_the_persons_group_and_leaves_it_out(
    app: FastAPI, made: list[str]
) -> None:
    """Real data walk: an organiser's new group came first in her own coalition ("0 km away",
    covering all she asked), and its "Ask for an introduction" asked itself (an API error)."""
    ana = confirmed(app)
    org = add_group(ana, made)
    org_id, name = str(org["id"]), str(org["name"])
    assert f'<option value="{org_id}" selected>{name}</option>' in ana.client.get("/").text
    shown = _search(ana)  # searching for her group, the default
    assert f"/organisations/{org_id}" not in shown
    assert f'<option value="{org_id}" selected>' in shown  # the form says whom it was for
    rec_id = re.search(r'data-recommendation-id="([^"]+)"', shown)
    assert rec_id is not None
    stored = ana.client.get(f"/r/{rec_id.group(1)}").text
    assert f'<option value="{org_id}" selected>' in stored
    # for none of her groups: her group may be a partner, and its card says it is hers
    looking = _search(ana, as_org="-")
    assert f"/organisations/{org_id}" in looking
    assert 'class="introduce own-group">Your group<' in looking
    assert f"/introductions/new?to={org_id}&amp;" not in looking
    # nothing to mark on one's own card (a walk found "Contacted" beside "Your group")
    card = looking.split(f'data-org-id="{org_id}"', 1)[1].split("</article>", 1)[0]
    assert 'name="outcome"' not in card
    looked = re.search(r'data-recommendation-id="([^"]+)"', looking)
    assert looked is not None
    mark = {
        "csrf_token": page_csrf(looking),
        "recommendation_id": looked.group(1),
        "organisation_id": org_id,
        "outcome": "contacted",
    }
    r = ana.client.post("/feedback", data=mark, headers={"accept": "application/json"})
    assert r.status_code == 422 and "your own group" in r.json()["detail"]
    # another person's search sees the group as a partner to ask
    ben = confirmed(app)
    assert f"/introductions/new?to={org_id}&amp;" in _search(ben)
    # a group that is not hers is refused in the form's words
    r = ana.client.post(
        "/",
        data={"csrf_token": page_csrf(looking), "text": BEEKEEPERS, "as_org": "org_notmine"},
    )
    assert r.status_code == 422 and "Searching for: you are not a member" in r.text
    r = ana.client.post(
        "/",
        data={"csrf_token": page_csrf(looking), "text": BEEKEEPERS, "as_org": "x" * 300},
    )
    assert r.status_code == 422 and "Searching for: you are not a member" in r.text
    # signed out since the form was drawn: a search for no group, no error about the choice
    anonymous = TestClient(app)
    r = anonymous.post("/", data={"text": BEEKEEPERS, "as_org": org_id})
    assert r.status_code == 200 and f"/organisations/{org_id}" in r.text
    # asking her own group for an introduction: a notice, not a form the service refuses
    intro = ana.client.get(f"/introductions/new?to={org_id}").text
    assert 'id="own-target"' in intro and 'id="introduction-form"' not in intro


def test_the_aligned_page_offers_introductions_and_knows_ones_own_group(
    app: FastAPI, made: list[str]
) -> None:
    """Real data walk: a CSR manager's aligned list had no action on its cards; each profile had
    to be opened to ask for an introduction. Signed in, each card asks, carrying the focus as
    the need; one's own group says so instead."""
    ana = confirmed(app)
    org = add_group(ana, made)
    org_id = str(org["id"])
    company = ana.client.get("/v1/organisations", params={"sector": "business", "page_size": 1})
    company_id = company.json()["items"][0]["id"]
    params = {"sector": "community", "focus": "hive tools and pollinators for children"}
    url = f"/organisations/{company_id}/aligned"
    anonymous = TestClient(app).get(url, params=params).text
    assert f'data-org-id="{org_id}"' in anonymous and "intro-link" not in anonymous
    page = ana.client.get(url, params=params).text
    assert f'data-org-id="{org_id}"' in page
    own = re.split(r'class="aligned-item"|</ol>', page.split(f'data-org-id="{org_id}"', 1)[1])[0]
    assert "Your group" in own and "intro-link" not in own
    ben = confirmed(app)
    add_group(ben, made, name=f"Garden Club {uuid.uuid4().hex[:6]}", description="A garden club.")
    theirs = ben.client.get(url, params=params).text
    link = re.search(rf'href="(/introductions/new\?to={org_id}&amp;need=[^"]+)"', theirs)
    assert link is not None
    form = ben.client.get(link.group(1).replace("&amp;", "&")).text
    assert "hive tools and pollinators for children</textarea>" in form
