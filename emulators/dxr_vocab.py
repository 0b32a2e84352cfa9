"""Vocabulary of the synthetic Data X-Ray corpus: datasources, labels, detectors, file types, names.

This module is data: the word lists and weighted tables that
:mod:`~file_records.emulators.dxr_generator` draws records from (long because it is data, not logic).
Identifiers derived from names (datasource, label, annotator, domain, DLP label and extractor ids)
are UUIDv5 values, stable across seeds and versions: tests and queries may rely on them.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

__all__ = [
    "ANNOTATOR_SPECS",
    "ANNOTATOR_WEIGHTS",
    "ASCII_STEMS",
    "DATASOURCES",
    "DEFAULT_NOW",
    "DLP_IDS",
    "DLP_NAMES",
    "DS_SPECS",
    "EXTRACTORS",
    "FILE_TYPES",
    "FIRST_NAMES",
    "FOLDER_PARTS",
    "GROUP_NAMES",
    "LABEL_IDS",
    "LABEL_NAMES",
    "LABEL_WEIGHTS",
    "LAST_NAMES",
    "MES_VALUES",
    "NAME_WORDS",
    "UNICODE_FIRST_NAMES",
    "UNICODE_FOLDER_PARTS",
    "UNICODE_LAST_NAMES",
    "UNICODE_STEMS",
    "stable_uuid",
]

DEFAULT_NOW = datetime(2026, 11, 1, 0, 0, 0, tzinfo=timezone.utc)

_NS = uuid.UUID("6f1c4b0e-2d7a-4c55-9b1e-8d0f3a2c5e71")


def stable_uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


# ------------------------------------------------------------------------------------------------------------
# Datasources (stable ids)
# ------------------------------------------------------------------------------------------------------------

# (name, connector dict, realmKey, path root (with or without leading "/"), weight)
DS_SPECS = [
    (
        "Legal SharePoint",
        {
            "type": "SHAREPOINT_ONLINE_GRAPH_API",
            "siteId": "site-4411",
            "siteUrl": "https://contoso.sharepoint.com/sites/legal",
        },
        "MS_SHAREPOINT_API_7297c643",
        "/Shared Documents",
        25,
    ),
    ("Finance NAS", {"type": "NETWORK_DRIVE_SMB"}, "SMB_FINNAS_01", "Finance", 25),
    ("Marketing Box", {"type": "BOX", "userId": "box-svc@example.com"}, "BOX_2209", "/Marketing", 12),
    ("Data Lake S3", {"type": "AMAZON_S3"}, "AWS_S3_042017", "exports", 13),
    (
        "Executive OneDrive",
        {
            "type": "ONEDRIVE_GRAPH_API",
            "siteId": "site-9020",
            "siteUrl": "https://contoso-my.sharepoint.com/personal/exec",
        },
        "MS_ONEDRIVE_API_51c0e2aa",
        "/Documents",
        12,
    ),
    (
        "Zürich Team Drive",
        {"type": "GOOGLE_DRIVE_GOOGLE_WORKSPACE", "userId": "gws-admin@example.com"},
        "GOOGLE_WS_88e1",
        "/My Drive",
        13,
    ),
]

#: The six datasources: list of ``{"id", "name", "connector": {...}}`` (ids stable across seeds and versions).
DATASOURCES: list[dict] = [
    {"id": stable_uuid("datasource", name), "name": name, "connector": dict(conn)}
    for name, conn, _realm, _root, _w in DS_SPECS
]

# ------------------------------------------------------------------------------------------------------------
# Labels and other classifications (stable ids)
# ------------------------------------------------------------------------------------------------------------

LABEL_NAMES = [
    "Confidential",
    "Public",
    "Records",
    "Legal hold",
    "ROT",
    "Contract",
    "PII",
    "Internal",
    "Financial",
]
#: label name -> stable UUID
LABEL_IDS: dict[str, str] = {name: stable_uuid("label", name) for name in LABEL_NAMES}
# Weights for "ordinary" label assignment (ROT is mostly assigned by rule, see below).
LABEL_WEIGHTS = {
    "Confidential": 18,
    "Public": 12,
    "Records": 14,
    "Legal hold": 4,
    "ROT": 5,
    "Contract": 9,
    "PII": 10,
    "Internal": 22,
    "Financial": 8,
}

DLP_NAMES = ["Highly Confidential", "Confidential", "General", "Public"]
DLP_IDS = {name: stable_uuid("dlp", name) for name in DLP_NAMES}

# (annotator name, domain name, phrase pool key)
ANNOTATOR_SPECS = [
    ("Email address", "PII", "email"),
    ("Person name", "PII", "person"),
    ("Phone number", "PII", "phone"),
    ("National ID", "PII", "natid"),
    ("IBAN", "Financially Sensitive", "iban"),
    ("Credit card number", "Financially Sensitive", "card"),
    ("Health condition", "Health", "health"),
    ("Project codename", "Confidential IP", "codename"),
]
ANNOTATOR_WEIGHTS = [25, 22, 12, 6, 9, 5, 4, 7]

EXTRACTORS = [
    (
        "Contract Type",
        "TEXT",
        ["NDA", "Master Services Agreement", "Statement of Work", "Lease", "Employment"],
    ),
    ("Contract Value", "NUMBER", [12000, 250000, 1500000, 87500, 4300]),
    ("Signed", "BOOLEAN", [True, False]),
    (
        "Counterparty",
        "TEXT",
        ["Acme Corp", "Globex GmbH", "Initech", "Umbrella plc", "Société Générale Démo"],
    ),
]

MES_VALUES = [
    ("SUCCESS", 55),
    ("SKIPPED", 25),
    ("UNSUPPORTED_MIME_TYPE", 4),
    ("TEXT_UNAVAILABLE", 3),
    ("DISABLED", 2),
    ("FILTERED", 1),
    ("UNKNOWN_ERROR", 1),
    ("DOCUMENT_BINARY_UNAVAILABLE", 1),
    (None, 8),  # absent
]

# ------------------------------------------------------------------------------------------------------------
# File types: (extension, mime type, weight, min bytes, max bytes)
# ------------------------------------------------------------------------------------------------------------

FILE_TYPES = [
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        20,
        8_000,
        25_000_000,
    ),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 12, 6_000, 60_000_000),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        6,
        30_000,
        250_000_000,
    ),
    ("pdf", "application/pdf", 20, 2_000, 120_000_000),
    ("txt", "text/plain", 4, 1, 5_000_000),
    ("csv", "text/csv", 5, 10, 900_000_000),
    ("jpg", "image/jpeg", 8, 5_000, 25_000_000),
    ("png", "image/png", 5, 200, 15_000_000),
    ("mp4", "video/mp4", 2, 500_000, 4_500_000_000),
    ("zip", "application/zip", 3, 100, 4_000_000_000),
    ("msg", "application/vnd.ms-outlook", 4, 3_000, 40_000_000),
    ("eml", "message/rfc822", 2, 1_000, 30_000_000),
    ("doc", "application/msword", 2, 10_000, 20_000_000),
    ("xls", "application/vnd.ms-excel", 1, 10_000, 30_000_000),
    ("json", "application/json", 2, 2, 200_000_000),
    ("log", "text/plain", 1, 0, 2_000_000_000),
    ("iso", "application/x-iso9660-image", 0.3, 50_000_000, 4_700_000_000),
]

ASCII_STEMS = [
    "report",
    "budget",
    "board-minutes",
    "contract",
    "invoice",
    "payroll",
    "roadmap",
    "presentation",
    "plan",
    "policy",
    "meeting-notes",
    "scan",
    "draft",
    "summary",
    "agenda",
    "proposal",
    "forecast",
    "audit",
    "msa-acme",
    "nda-globex",
    "org-chart",
    "onboarding",
    "handbook",
    "expenses",
    "timesheet",
    "press-release",
    "brand-guide",
    "sales-pipeline",
    "customer-list",
    "vendor-master",
    "tax-return",
    "risk-register",
    "incident-log",
    "backup",
    "export",
    "datadump",
    "specification",
    "requirements",
    "design",
    "test-plan",
    "release-notes",
    "minutes",
    "quarterly-review",
    "annual-report",
    "due-diligence",
    "lease-agreement",
    "offer-letter",
    "performance-review",
    "benefits",
    "pension",
    "IMG",
    "DSC",
    "Screenshot",
    "Scan",
    "Untitled",
    "Document",
    "Book1",
    "Presentation1",
]
UNICODE_STEMS = [
    "Prüfbericht",
    "Zürich Büro",
    "見積書",
    "日本語の資料",
    "Ωmega-spec",
    "résumé",
    "🎉 launch",
    "Привет-отчёт",
    "año-fiscal",
    "Straße-Plan",
    "Øresund-kort",
    "Ελληνικά",
    "naïve-café",
    "📊 KPIs",
    "データ",
]
NAME_WORDS = [
    "final",
    "v2",
    "signed",
    "draft",
    "old",
    "copy",
    "FINAL",
    "approved",
    "review",
    "internal",
    "scan",
]

FOLDER_PARTS = [
    "Board",
    "Contracts",
    "HR",
    "Personnel",
    "Payroll",
    "Archive",
    "Projects",
    "Clients",
    "Invoices",
    "Reports",
    "Compliance",
    "Audit",
    "Legal",
    "Policies",
    "Templates",
    "Marketing",
    "Campaigns",
    "Brand",
    "Sales",
    "Tax",
    "2014",
    "2016",
    "2018",
    "2019",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Old",
    "Backup",
    "Misc",
    "Shared",
    "Team",
    "Temp",
    "Exports",
    "Scans",
    "Photos",
    "Recordings",
    "Copies",
]
UNICODE_FOLDER_PARTS = [
    "Zürich",
    "日本語",
    "Ωmega",
    "Café Noël",
    "📁 Archive",
    "Résumés",
    "Привет",
    "São Paulo",
    "Kraków",
    "🚀 Launch",
]

FIRST_NAMES = [
    "Dana",
    "Lee",
    "Alex",
    "Sam",
    "Maria",
    "John",
    "Priya",
    "Chen",
    "Fatima",
    "Olga",
    "Aiko",
    "Mateus",
    "Noor",
    "Ravi",
    "Emma",
    "Lukas",
]
UNICODE_FIRST_NAMES = ["Zoë", "José", "Søren", "Amélie", "Łukasz"]
LAST_NAMES = [
    "Ruiz",
    "Park",
    "Smith",
    "Kowalski",
    "Nguyen",
    "Okafor",
    "Tanaka",
    "Jensen",
    "O'Brien",
    "Rossi",
    "Kim",
    "Dubois",
    "Schmidt",
    "Patel",
    "Johansson",
    "Costa",
]
UNICODE_LAST_NAMES = ["Müller", "Álvarez", "Lévesque", "Ivanova-Šimek", "田中"]
GROUP_NAMES = [
    "Legal Team",
    "Finance",
    "HR",
    "All Staff",
    "Contractors",
    "Executives",
    "Marketing",
    "IT Admins",
]
