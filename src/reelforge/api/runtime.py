"""Everything one app instance owns, built in its lifespan and closed with it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from reelforge.intake.references import ReferenceIntake
from reelforge.jobs.service import JobService
from reelforge.platform.credits import Credits
from reelforge.platform.keys import KeyRing
from reelforge.platform.pricing import PriceTable
from reelforge.platform.webhooks import WebhookDispatcher
from reelforge.settings import Settings
from reelforge.storage.base import Storage
from reelforge.storage.signing import UrlSigner
from reelforge.store.file_repository import FileRepository


@dataclass
class Runtime:
    settings: Settings
    database: sa.Engine
    storage: Storage
    signer: UrlSigner
    keys: KeyRing
    files: FileRepository
    intake: ReferenceIntake
    jobs: JobService
    prices: PriceTable
    credits: Credits
    webhooks: WebhookDispatcher
