"""The settings section of object storage (`REELFORGE_S3_*`; docs/storage.md).

`reelforge.settings.Settings` inherits it, so the variables keep their flat names; storage reads
only this section.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class StorageSettings(BaseModel):
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, R2, ...); None = AWS S3"
    )
    s3_region: str | None = Field(default=None, description="None = the AWS config chain")
    s3_access_key_id: str | None = Field(
        default=None, description="None = the AWS credential chain (env, profile, role)"
    )
    s3_secret_access_key: SecretStr | None = None
    s3_addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="path for servers without bucket subdomains (e.g. MinIO)"
    )
    s3_presign_downloads: bool = Field(
        default=True,
        description="downloads redirect (307) to a presigned S3 URL instead of passing through "
        "the API; turn off when clients cannot reach the S3 endpoint",
    )
    s3_public_endpoint_url: str | None = Field(
        default=None,
        description="the S3 endpoint as clients reach it, for presigned links (default: "
        "s3_endpoint_url)",
    )
