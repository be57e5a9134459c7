"""The Django admin as staff use it: promotion by admin action, the read-only audit trail."""

import pytest
from django.utils.text import capfirst
from playwright.sync_api import expect

from tests.e2e.helpers import admin_login

pytestmark = pytest.mark.e2e


def test_superuser_promotes_a_user_and_reads_the_audit_entry_it_left(page, admin_account, make_account):
    account = make_account("promoted")
    admin_login(page, admin_account)
    expect(page.locator("#site-name")).to_contain_text("DevLab administration")

    page.goto(f"/admin/accounts/user/?q={account.username}")
    row = page.locator("#result_list tbody tr").filter(has_text=account.username)
    expect(row.locator(".field-is_admin img")).to_have_attribute("alt", "False")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Promote to admin")
    page.get_by_role("button", name="Go").click()
    # The admin's message template capitalises the first letter (capfirst).
    expect(page.locator(".messagelist .success")).to_have_text(capfirst(f"{account.username} is now an admin."))
    expect(row.locator(".field-is_admin img")).to_have_attribute("alt", "True")

    page.goto("/admin/audit/auditentry/")
    page.locator("#changelist-filter").get_by_role("link", name="User promoted").click()
    expect(page).to_have_url("/admin/audit/auditentry/?action__exact=user_promoted")
    rows = page.locator("#result_list tbody tr")
    expect(rows.locator(".field-action")).to_have_text(["User promoted"])
    expect(rows.locator(".field-target_display")).to_have_text([f"user #{account.id}"])

    rows.first.locator("a").first.click()
    expect(page.locator("#content h1")).to_have_text("View audit entry")
    expect(page.locator(".field-action .readonly")).to_have_text("User promoted")
    expect(page.locator(".field-actor_username .readonly")).to_have_text(admin_account.username)
    expect(page.locator(".field-target_display .readonly")).to_have_text(f"user #{account.id}")
    expect(page.locator("input[name=_save], input[name=_continue], input[name=_addanother]")).to_have_count(0)
    expect(page.locator("a.deletelink")).to_have_count(0)
    expect(page.locator("#content-main input:not([type=hidden]), #content-main textarea")).to_have_count(0)


def test_a_user_without_staff_status_is_refused_at_the_admin_login(page, make_account):
    account = make_account("nonstaff")
    admin_login(page, account)
    expect(page).to_have_url("/admin/login/?next=/admin/")
    expect(page.locator(".errornote")).to_contain_text("correct username and password for a staff account")
    page.goto("/admin/")
    expect(page).to_have_url("/admin/login/?next=/admin/")
