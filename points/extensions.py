"""Extensions, created unbound and bound in create_app."""

import contextvars

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Model(DeclarativeBase):
    # Named constraints, so that migrations can alter them on both databases.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# The engine of database.reading() (a hot standby), while a report runs; None: the primary.
report_engine = contextvars.ContextVar("report_engine", default=None)


class Session(FlaskSession):
    """Inside database.reading(), every statement goes to the report engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = report_engine.get()
        if engine is not None and bind is None:
            return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Model, session_options={"class_": Session})
migrate = Migrate()

# The web pages (bound in points/web.py): staff sessions, CSRF on forms, languages.
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
