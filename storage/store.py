"""The facade a database middleware hands to every handler."""

from __future__ import annotations

from storage.backend import Backend
from storage.repositories.actions import ActionRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.invitations import InvitationRepository
from storage.repositories.progress import ProgressRepository
from storage.repositories.respondents import RespondentRepository
from storage.repositories.responses import ResponseRepository
from storage.repositories.sender_role import SenderRoleRepository
from storage.repositories.staff import StaffRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository


class Store:
    def __init__(self, database: Backend) -> None:
        self.database = database
        self.respondents = RespondentRepository(database)
        self.surveys = SurveyRepository(database)
        self.waves = WaveRepository(database)
        self.responses = ResponseRepository(database)
        self.invitations = InvitationRepository(database)
        self.audit = AuditRepository(database)
        self.progress = ProgressRepository(database)
        self.staff = StaffRepository(database)
        self.actions = ActionRepository(database)
        self.sender_role = SenderRoleRepository(database)
