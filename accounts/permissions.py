"""Who may do what: admin-only endpoints."""

from rest_framework.permissions import BasePermission

from accounts import signals


class IsAdmin(BasePermission):
    """Allows admins (``is_staff``) only.

    Rights are read from the database on every request (JWT authentication
    loads the user by primary key), so a demoted admin's still-valid access
    token stops passing at once.
    """

    message = "Admin rights are required."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class AdminOnlyMixin:
    """For admin-only views: ``IsAdmin``, and an ``access_denied`` signal on refusal.

    Anonymous requests still get 401 (not recorded: nobody to attribute);
    an authenticated non-admin gets 403 and the signal, which the audit trail
    records with the method and path.
    """

    permission_classes = [IsAdmin]

    def permission_denied(self, request, message=None, code=None):
        if request.user and request.user.is_authenticated:
            signals.access_denied.send(
                sender=type(request.user), user=request.user, method=request.method, path=request.path
            )
        super().permission_denied(request, message=message, code=code)
