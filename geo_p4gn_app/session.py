"""Who is using the app, in which language, on which store: resolved once per run by ``app.py``.

Identity follows :func:`geo_p4gn.auth.auth_mode`: Streamlit's ``st.login`` (OIDC) when ``[auth]`` is in
``.streamlit/secrets.toml``; local accounts (argon2id hashes in the users file) when there are any;
otherwise the clearly labelled single-user mode (:data:`geo_p4gn.services.SINGLE_USER`). The role comes
from the server-side users file, never from the browser. Roles only hide UI here; the services refuse
whatever the role may not do.

The signed-in name of a local account is kept in this session's ``st.session_state`` (never in module
state); OIDC identities are re-read from ``st.user`` every run. Either way the role is looked up in the
users file again on every run (every click or page change): a user an administrator demoted gets the
new role at their next request, and a removed one is signed out, without waiting for the session to end.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from geo_p4gn import auth, services, settings
from geo_p4gn._errors import P4gnError, PermissionDenied
from geo_p4gn.services import User

from . import data
from .i18n import LANG_NAMES, LANGS, role_label, t
from .text import md

_CTX = "_gp_ctx"
_LOCAL_USER = "_gp_local_user"


@dataclasses.dataclass(frozen=True)
class Context:
    user: User
    mode: str  # "oidc", "local" or "single"
    lang: str
    store_url: str

    @property
    def store(self):
        return data.store(self.store_url)

    def can(self, action: str) -> bool:
        return services.can(self.user, action)

    def view(self) -> data.View:
        """The cache key of store reads for this user, at the store's current version."""
        return data.view(self.store_url, self.user)

    def t(self, key: str, **values) -> str:
        return t(key, self.lang, **values)


def current() -> Context:
    """The context ``app.py`` resolved for this run (pages call this)."""
    return st.session_state[_CTX]


def _lang() -> str:
    """The chosen language: this session's, else the address's ``?lang=`` (a reload keeps it), else Bahasa."""
    if st.session_state.get("lang") not in LANGS:
        q = st.query_params.get("lang")
        st.session_state["lang"] = q if q in LANGS else "id"
    return st.session_state["lang"]


def _keep_lang_in_address(lang: str) -> None:
    """``?lang=en`` in the address while English is chosen (none for the default), so a reload keeps it."""
    want = None if lang == LANGS[0] else lang
    if st.query_params.get("lang") != want:
        if want is None:
            del st.query_params["lang"]
        else:
            st.query_params["lang"] = want


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return False


def _sign_in_local(lang: str) -> User | None:
    user = st.session_state.get(_LOCAL_USER)
    if isinstance(user, User):
        try:
            now = auth.role_for(user.name)  # the users file as it is now, not the role at sign-in
        except P4gnError:  # removed meanwhile (or the file is unreadable): signed out
            st.session_state.pop(_LOCAL_USER, None)
            st.warning(t("no_role", lang))
        else:
            if now != user:
                st.session_state[_LOCAL_USER] = now
            return now
    st.title(t("sign_in_title", lang))
    with st.form("gp_sign_in"):
        name = st.text_input(t("user_name", lang), autocomplete="username")
        password = st.text_input(t("password", lang), type="password", autocomplete="current-password")
        if st.form_submit_button(t("sign_in", lang), type="primary"):
            try:
                user = auth.verify_password(name, password)
            except P4gnError as exc:
                st.error(f"{t('sign_in_failed', lang)}: {md(exc)}")
            else:
                st.session_state[_LOCAL_USER] = user
                st.rerun()
    return None


def _sign_in_oidc(lang: str) -> User | None:
    if not st.user.is_logged_in:
        st.title(t("sign_in_title", lang))
        st.button(t("sign_in_oidc", lang), on_click=st.login, type="primary")
        return None
    try:
        return auth.oidc_user(st.user.to_dict())
    except PermissionDenied:
        st.error(t("no_role", lang))
        st.button(t("sign_out", lang), on_click=st.logout)
        return None


def _sign_out_local() -> None:
    st.session_state.pop(_LOCAL_USER, None)


def resolve() -> Context | None:
    """Language switch, sign-in and the sidebar header; None when nobody may use the app yet."""
    with st.sidebar:
        st.segmented_control(t("language", _lang()), LANGS, format_func=LANG_NAMES.get, key="lang",
                             required=True)
    lang = _lang()
    _keep_lang_in_address(lang)
    url = str(settings.store_url)
    try:
        mode = auth.auth_mode(oidc_configured=_oidc_configured(), store_url=url)
    except P4gnError as exc:  # refused, or a users file that cannot be read: nobody gets in
        st.error(md(exc))
        return None
    if mode != "local":
        st.session_state.pop(_LOCAL_USER, None)  # a local sign-in never outlives the local mode
    if mode == "single":
        user = services.SINGLE_USER
    elif mode == "local":
        user = _sign_in_local(lang)
    else:
        user = _sign_in_oidc(lang)
    if user is None:
        return None
    ctx = Context(user=user, mode=mode, lang=lang, store_url=url)
    with st.sidebar:
        if mode == "single":
            st.warning(t("single_user", lang), icon=":material/person:")
        else:
            st.caption(t("signed_in_as", lang, name=md(user.name), role=role_label(user.role, lang)))
            st.button(t("sign_out", lang), key="gp_sign_out",
                      on_click=st.logout if mode == "oidc" else _sign_out_local)
    st.session_state[_CTX] = ctx
    return ctx


def error(ctx: Context, exc: Exception) -> None:
    """Show a refused or invalid action: the reason comes from the core and is escaped."""
    prefix = ctx.t("denied") if isinstance(exc, PermissionDenied) else ctx.t("error_prefix")
    st.error(f"{prefix}: {md(exc)}")


_FLASH = "_gp_flash"


def act(ctx: Context, action, done: str) -> None:
    """Run a button's service call: on success rerun and say ``done`` (:func:`show_flash`); when refused,
    show why.

    A toast sent just before ``st.rerun()`` is lost about half the time (the rerun drops it), so the
    message waits in the session for the next run, which shows it.
    """
    try:
        action()
    except P4gnError as exc:
        error(ctx, exc)
    else:
        st.session_state[_FLASH] = done
        st.rerun()


def show_flash() -> str | None:
    """Show (once) what the last :func:`act` did, here and as a toast; the message, or None."""
    done = st.session_state.pop(_FLASH, None)
    if done:
        st.success(done, icon=":material/check_circle:")
        st.toast(done)
    return done
