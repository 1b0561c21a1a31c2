"""The console's forms. Every one is a FlaskForm, so every POST carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from console.accounts import MIN_PASSWORD_LENGTH, ROLES


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class PlainForm(FlaskForm):
    """A button-only form (sign out, delete): just the CSRF token."""


class AnnotationForm(FlaskForm):
    """The intent a patient message should have had."""

    event_id = HiddenField(validators=[DataRequired()])
    intent = SelectField("Correct intent", choices=[], validate_choice=True)


class CreateUserForm(FlaskForm):
    """A new console user."""

    username = StringField("Username", validators=[DataRequired(), Length(min=2, max=64)])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)])
    role = SelectField("Role", choices=[(role, role.capitalize()) for role in ROLES], default="staff")


USER_ACTIONS = {
    "make_admin": "Make admin",
    "make_staff": "Make staff",
    "make_viewer": "Make viewer (read only)",
    "disable": "Disable",
    "enable": "Enable",
    "unlock": "Unlock",
}


class UserActionForm(FlaskForm):
    """One change to an existing user."""

    action = SelectField("Action", choices=list(USER_ACTIONS.items()))


class ResetPasswordForm(FlaskForm):
    """An admin sets another user's password."""

    password = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)])


class ChangePasswordForm(FlaskForm):
    """A user changes their own password."""

    current = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)])
    confirm = PasswordField(
        "New password again", validators=[EqualTo("password", message="The passwords differ.")]
    )


class GroupForm(FlaskForm):
    """A group of unanswered questions of a period, by its key (mark or unmark it)."""

    key = HiddenField(validators=[DataRequired(), Length(max=255)])
    first = HiddenField(validators=[DataRequired(), Length(max=10)])
    last = HiddenField(validators=[DataRequired(), Length(max=10)])


class GroupLabelForm(GroupForm):
    """Label every message of a group with one intent."""

    intent = SelectField("Label as", choices=[], validate_choice=True)
