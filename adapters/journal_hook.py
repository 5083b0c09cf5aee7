"""The ORM changes that matter, turned into journal entries at each flush (``after_flush``), in its transaction.

Every session made by ``adapters.database.session_factory`` runs this hook (the entries of a transaction are
kept from flush to flush and written just before it commits, in it), so a new action that adds or changes
a dépôt, a pièce, an attestation, an instruction, a decision, a document, a convention, an avenant, an échéance, a
bilan, a mail or an account is journaled without anyone remembering to. What a flush does not show (a bulk
``UPDATE`` such as the outbox's « sent », a purge) is recorded by its action with ``adapters.journal.record``.

Each table has one function below: the object, its operation and its changed attributes → entries (kind,
French text, payload). Payloads hold ids, numbers, states, dates and SHA-256 — never an address, a person's
name, a file name or a file's content (the journal can never be changed; those must stay erasable).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

from dataclasses import replace

from adapters.journal import EN_ATTENTE, append
from adapters.session_hooks import listen_once
from francais.formats import compte
from models.journal import Ecriture

CREATION, MODIFICATION = "création", "modification"


def _changed(obj: Any, *names: str) -> dict[str, tuple[Any, Any]]:
    """The attributes among ``names`` this flush changed: name → (before, after)."""
    state = inspect(obj)
    out = {}
    for name in names:
        history = state.attrs[name].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before != after:
                out[name] = (before, after)
    return out


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


@functools.cache
def _statements() -> dict[str, Any]:
    """The describers' lookups, built once (building a statement costs more than running it on SQLite)."""
    from models.appel import Appel
    from models.dossier import Attestation, Depot, Dossier

    return {
        "numeros": select(select(Appel.annee).where(Appel.id == bindparam("a")).scalar_subquery(),
                          select(Dossier.numero).where(Dossier.id == bindparam("d")).scalar_subquery()),
        "attestation": select(Appel.annee, Dossier.numero).select_from(Attestation)
        .join(Appel, Appel.id == Attestation.appel_id).join(Depot, Depot.id == Attestation.depot_id)
        .outerjoin(Dossier, Dossier.id == Depot.dossier_id).where(Attestation.id == bindparam("a")),
    }


class _Context:
    """What the describers look up: a call's year, a dossier's or a convention's number (from the identity map
    when loaded, which the action has usually done)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._flushed: dict[tuple[type, Any], Any] | None = None

    def loaded(self, cls: type, key: int | None) -> Any:
        """The object if this session holds it already (no query): in its identity map, or inserted by this very
        flush (an object joins the identity map only once the flush is over)."""
        if key is None:
            return None
        found = self.session.identity_map.get(identity_key(cls, key))
        if found is None:
            if self._flushed is None:
                self._flushed = {(inspect(o).mapper.class_, getattr(o, "id", None)): o for o in self.session.new}
            found = self._flushed.get((cls, key))
        return found

    def annee_et_dossier(self, appel_id: int | None, dossier_id: int | None) -> tuple[int | None, str | None]:
        """A call's year and a dossier's number: from the session when it holds them, else one query for both."""
        from models.appel import Appel
        from models.dossier import Dossier

        appel, dossier = self.loaded(Appel, appel_id), self.loaded(Dossier, dossier_id)
        annee = appel.annee if appel is not None else None
        numero = dossier.numero if dossier is not None else None
        if (appel is None and appel_id is not None) or (dossier is None and dossier_id is not None):
            found = self.session.execute(_statements()["numeros"], {"a": appel_id, "d": dossier_id}).one()
            annee = annee if appel is not None else found[0]
            numero = numero if dossier is not None else found[1]
        return annee, numero

    def annee(self, appel_id: int | None) -> int | None:
        return self.annee_et_dossier(appel_id, None)[0]

    def dossier(self, dossier_id: int | None) -> str | None:
        return self.annee_et_dossier(None, dossier_id)[1]

    def depot(self, depot_id: int | None) -> Any:
        from models.dossier import Depot

        if depot_id is None:
            return None
        return self.loaded(Depot, depot_id) or self.session.get(Depot, depot_id)

    def convention(self, convention_id: int | None) -> Any:
        from models.convention import Convention

        if convention_id is None:
            return None
        return self.loaded(Convention, convention_id) or self.session.get(Convention, convention_id)


def _appel(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op != CREATION:
        return []
    return [Ecriture("appel_publie", f"Appel à projets {obj.annee} publié.", appel=obj.annee,
                     donnees={"appel": obj.id, "date_limite": obj.date_limite, "publie_le": obj.publie_le})]


def _dossier(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    annee = ctx.annee(obj.appel_id)
    if op == CREATION:
        return [Ecriture("dossier_ouvert", f"Dossier {obj.numero} ouvert ({_value(obj.statut)}).", appel=annee,
                         dossier=obj.numero, donnees={"dossier": obj.id, "porteur": obj.porteur_id,
                                                      "statut": obj.statut, "recu_le": obj.recu_le})]
    out = []
    changes = _changed(obj, "statut", "admis", "reponse_avant")
    if "statut" in changes:
        avant, apres = changes["statut"]
        out.append(Ecriture("dossier_statut", f"Dossier {obj.numero} : {_value(avant)} → {_value(apres)}.",
                            appel=annee, dossier=obj.numero,
                            donnees={"dossier": obj.id, "avant": avant, "apres": apres,
                                     "pieces_manquantes": len(obj.pieces_manquantes or [])}))
    if changes.get("admis", (None, False))[1]:
        out.append(Ecriture("dossier_admis", f"Dossier {obj.numero} admis malgré son arrivée hors délai.",
                            appel=annee, dossier=obj.numero, donnees={"dossier": obj.id}))
    return out


DEPOT_GENRES = {"enregistré": "depot_enregistre", "non identifié": "depot_non_identifie",
                "à vérifier": "depot_a_verifier", "rejeté": "depot_rejete"}
DEPOT_TEXTES = {"enregistré": "enregistré", "non identifié": "reçu sans structure identifiée",
                "à vérifier": "retenu, à vérifier (adresse inconnue pour la structure)",
                "rejeté": "rejeté par l'assistante"}


def _depot(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    statut = _value(obj.statut)
    changes = {} if op == CREATION else _changed(obj, "statut", "dossier_id")
    if op != CREATION and not changes:
        return []
    numero = ctx.dossier(obj.dossier_id)
    quoi = DEPOT_TEXTES.get(statut, statut)
    avant = _value(changes["statut"][0]) if "statut" in changes else None
    rattache = avant == "non identifié" and statut == "enregistré"  # its dossier set in the same flush, or after
    if op != CREATION and avant is not None and not rattache:
        genre = "depot_confirme" if statut == "enregistré" else DEPOT_GENRES.get(statut, "depot")
        if statut == "enregistré":
            quoi = "confirmé par l'assistante et enregistré"
    elif op != CREATION:
        genre, quoi = "depot_rattache", f"rattaché au dossier {numero}"
    else:
        genre = DEPOT_GENRES.get(statut, "depot")
    retard = " (hors délai)" if obj.hors_delai else ""
    return [Ecriture(genre, f"Dépôt n° {obj.id} par {_value(obj.canal)}{retard} : {quoi}.",
                     appel=ctx.annee(obj.appel_id), dossier=numero,
                     donnees={"depot": obj.id, "statut": statut, "canal": obj.canal, "recu_le": obj.recu_le,
                              "recu_source": obj.recu_source, "hors_delai": obj.hors_delai, "rang": obj.rang,
                              "empreinte_pieces": obj.empreinte_pieces, "motifs": len(obj.motifs or [])})]


def _piece(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op == CREATION:
        genre, quoi = ("piece_recue", "reçue") if obj.acceptee else ("piece_refusee", "refusée")
    else:
        changes = _changed(obj, "acceptee")
        if not changes:
            return []
        genre, quoi = ("piece_acceptee", "acceptée") if obj.acceptee else ("piece_refusee", "refusée")
    depot = ctx.depot(obj.depot_id)
    numero = ctx.dossier(depot.dossier_id) if depot else None
    return [Ecriture(genre, f"Pièce n° {obj.id} ({_value(obj.nature)}) du dépôt n° {obj.depot_id} {quoi}.",
                     appel=ctx.annee(depot.appel_id) if depot else None, dossier=numero,
                     donnees={"piece": obj.id, "depot": obj.depot_id, "nature": obj.nature, "sha256": obj.sha256,
                              "taille": obj.taille, "acceptee": obj.acceptee})]


def _attestation(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op != CREATION:
        return []
    depot = ctx.depot(obj.depot_id)
    return [Ecriture("attestation_numerotee", f"Attestation {obj.numero} numérotée pour le dépôt n° {obj.depot_id}.",
                     appel=ctx.annee(obj.appel_id), dossier=ctx.dossier(depot.dossier_id) if depot else None,
                     donnees={"attestation": obj.id, "numero": obj.numero, "depot": obj.depot_id,
                              "emise_le": obj.emise_le})]


def _instruction(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op != CREATION:
        return []
    numero = ctx.dossier(obj.dossier_id)
    return [Ecriture("instruction", f"Dossier {numero} instruit (version {obj.version}) : avis {_value(obj.avis)}.",
                     appel=_annee_of_dossier(ctx, obj.dossier_id), dossier=numero,
                     donnees={"instruction": obj.id, "version": obj.version, "avis": obj.avis,
                              "empreinte": obj.empreinte, "constats": len(obj.constats or []),
                              "instruit_le": obj.instruit_le})]


def _annee_of_dossier(ctx: _Context, dossier_id: int | None) -> int | None:
    from models.dossier import Dossier

    d = ctx.session.get(Dossier, dossier_id) if dossier_id is not None else None
    return ctx.annee(d.appel_id) if d else None


def _decision(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op != CREATION:
        return []
    numero = ctx.dossier(obj.dossier_id)
    return [Ecriture("decision", f"Comité du {obj.comite_le:%d/%m/%Y} : dossier {numero} {_value(obj.decision)}.",
                     appel=_annee_of_dossier(ctx, obj.dossier_id), dossier=numero,
                     donnees={"decision": obj.id, "comite_le": obj.comite_le, "resultat": obj.decision,
                              "reponse_avant": obj.reponse_avant, "fichier_sha256": obj.fichier_sha256})]


DOCUMENTS = {"attestation": "attestation de dépôt", "accuse_bilan": "accusé de réception de bilan",
             "lettre_decision": "lettre de décision", "convention": "convention", "avenant": "avenant",
             "note_instruction": "note d'instruction"}


def _document(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op != CREATION:
        return []
    appel, dossier, convention = _document_subject(ctx, obj.nature, obj.objet_id)
    genre = "lettre" if obj.nature == "lettre_decision" else "document"
    quoi = DOCUMENTS.get(obj.nature, obj.nature)
    sujet = f" du dossier {dossier}" if dossier else (f" de la convention {convention}" if convention else "")
    return [Ecriture(genre, f"Document produit : {quoi}{sujet}.", appel=appel, dossier=dossier, convention=convention,
                     donnees={"document": obj.id, "nature": obj.nature, "objet": obj.objet_id, "modele": obj.modele,
                              "modele_sha256": obj.modele_sha256})]


def _document_subject(ctx: _Context, nature: str, objet_id: int) -> tuple[int | None, str | None, str | None]:
    from models.convention import Avenant
    from models.instruction import DecisionComite, Instruction
    from models.suivi import Bilan

    s = ctx.session
    if nature == "attestation":
        row = s.execute(_statements()["attestation"], {"a": objet_id}).first()
        return (row[0], row[1], None) if row else (None, None, None)
    if nature in ("lettre_decision", "note_instruction"):
        row = s.get(DecisionComite if nature == "lettre_decision" else Instruction, objet_id)
        return (_annee_of_dossier(ctx, row.dossier_id), ctx.dossier(row.dossier_id), None) if row else (None, None, None)
    if nature == "convention" and (c := ctx.convention(objet_id)):
        return ctx.annee(c.appel_id), ctx.dossier(c.dossier_id), c.numero
    if nature == "avenant" and (av := s.get(Avenant, objet_id)) and (c := ctx.convention(av.convention_id)):
        return ctx.annee(c.appel_id), ctx.dossier(c.dossier_id), c.numero
    if nature == "accuse_bilan" and (b := s.get(Bilan, objet_id)):
        return ctx.annee(b.appel_id), *_convention_of_echeance(ctx, b.echeance_id)
    return None, None, None


def _convention_of_echeance(ctx: _Context, echeance_id: int | None) -> tuple[str | None, str | None]:
    from models.suivi import Echeance

    e = ctx.session.get(Echeance, echeance_id) if echeance_id is not None else None
    c = ctx.convention(e.convention_id) if e else None
    return (ctx.dossier(c.dossier_id), c.numero) if c else (None, None)


def _convention(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    base = {"appel": ctx.annee(obj.appel_id), "dossier": ctx.dossier(obj.dossier_id), "convention": obj.numero}
    if op == CREATION:
        return [Ecriture("convention_etablie", f"Convention {obj.numero} établie (du {obj.debut:%d/%m/%Y} au "
                                               f"{obj.fin:%d/%m/%Y}).", **base,
                         donnees={"convention": obj.id, "debut": obj.debut, "fin": obj.fin, "etp": obj.etp,
                                  "budget_salaires": obj.budget_salaires, "ressources_fse": obj.ressources_fse,
                                  "ressources_plie": obj.ressources_plie})]
    out = []
    changes = _changed(obj, "signee_le", "statut", "fin", "etp", "budget_salaires", "budget_deplacements",
                       "budget_autres", "ressources_fse", "ressources_plie", "ressources_autres")
    if changes.get("signee_le", (None, None))[1] is not None:
        out.append(Ecriture("signature", f"Convention {obj.numero} signée le {obj.signee_le:%d/%m/%Y}.", **base,
                            donnees={"convention": obj.id, "signee_le": obj.signee_le}))
    autres = {k: v for k, v in changes.items() if k != "signee_le"}
    if autres:
        out.append(Ecriture("convention_modifiee", f"Convention {obj.numero} modifiée : {', '.join(sorted(autres))}.",
                            **base, donnees={"convention": obj.id,
                                             "changements": {k: {"avant": a, "apres": b} for k, (a, b) in autres.items()}}))
    return out


def _avenant(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    c = ctx.convention(obj.convention_id)
    base = {"appel": ctx.annee(c.appel_id) if c else None, "dossier": ctx.dossier(c.dossier_id) if c else None,
            "convention": c.numero if c else None}
    if op == CREATION:
        return [Ecriture("avenant", f"Avenant {obj.numero} ({_value(obj.nature)}) validé le {obj.valide_le:%d/%m/%Y}.",
                         **base, donnees={"avenant": obj.id, "numero": obj.numero, "nature": obj.nature,
                                          "renouvellement": obj.renouvellement, "valide_le": obj.valide_le,
                                          "periode_debut": obj.periode_debut, "periode_fin": obj.periode_fin,
                                          "changements": len(obj.changements or [])})]
    if _changed(obj, "signe_le").get("signe_le", (None, None))[1] is not None:
        return [Ecriture("signature", f"Avenant {obj.numero} signé le {obj.signe_le:%d/%m/%Y}.", **base,
                         donnees={"avenant": obj.id, "signe_le": obj.signe_le})]
    return []


def _echeance(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    c = ctx.convention(obj.convention_id)
    base = {"appel": ctx.annee(c.appel_id) if c else None, "dossier": ctx.dossier(c.dossier_id) if c else None,
            "convention": c.numero if c else None}
    donnees = {"echeance": obj.id, "nature": obj.nature, "periode_debut": obj.periode_debut,
               "periode_fin": obj.periode_fin, "due_le": obj.due_le}
    quoi = f"échéance {_value(obj.nature)} du {obj.due_le:%d/%m/%Y}"
    if op == CREATION:
        return [Ecriture("echeance_prevue", f"Bilan dû : {quoi}.", **base, donnees=donnees)]
    changes = _changed(obj, "demande_le", "relances")
    out = []
    if changes.get("demande_le", (None, None))[1] is not None:
        out.append(Ecriture("echeance_demandee", f"Bilan demandé : {quoi}.", **base,
                            donnees={**donnees, "demande_le": obj.demande_le}))
    if "relances" in changes:
        out.append(Ecriture("echeance_relancee", f"Relance n° {len(obj.relances or [])} : {quoi}.", **base,
                            donnees={**donnees, "relances": obj.relances}))
    return out


def _bilan(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    dossier, convention = _convention_of_echeance(ctx, obj.echeance_id)
    base = {"appel": ctx.annee(obj.appel_id), "dossier": dossier, "convention": convention}
    donnees = {"bilan": obj.id, "numero": obj.numero, "echeance": obj.echeance_id, "recu_le": obj.recu_le,
               "conforme": obj.conforme, "erreurs": len(obj.erreurs or []), "verification": obj.verification,
               "pieces": [p.get("sha256") for p in (obj.pieces or []) if isinstance(p, dict)]}
    if op == CREATION:
        if _value(obj.verification) == "à vérifier":
            genre, quoi = "bilan_a_verifier", "reçu, à vérifier (adresse inconnue pour la structure)"
        elif obj.conforme:
            genre, quoi = "bilan_accepte", "reçu et accepté"
        else:
            genre, quoi = "bilan_refuse", f"reçu et refusé ({compte(len(obj.erreurs or []), 'erreur', 'erreurs')})"
        return [Ecriture(genre, f"Bilan {obj.numero} {quoi}.", **base, donnees=donnees)]
    verification = _changed(obj, "verification").get("verification")
    if verification and verification[1] is not None:
        genre = "bilan_confirme" if _value(verification[1]) == "confirmé" else "bilan_rejete"
        quoi = "confirmé par l'assistante" if genre == "bilan_confirme" else "rejeté par l'assistante"
        return [Ecriture(genre, f"Bilan {obj.numero} {quoi}.", **base, donnees=donnees)]
    return []


def _courriel(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    from models.courriel import nature_of

    annee, numero = ctx.annee_et_dossier(obj.appel_id, obj.dossier_id)
    base = {"appel": annee, "dossier": numero}
    donnees = {"courriel": obj.id, "cle": obj.cle, "statut": obj.statut, "destinataires": len(obj.destinataires or [])}
    if op == CREATION:
        return [Ecriture("courriel_en_file", f"Courriel mis en file : {nature_of(obj.cle)} (n° {obj.id}).", **base,
                         donnees=donnees)]
    statut = _changed(obj, "statut").get("statut")
    if statut is None:
        return []
    from models.courriel import STATUT_LIBELLES

    return [mail_entry(obj.id, obj.cle, STATUT_LIBELLES.get(statut[1], _value(statut[1])), appel=base["appel"],
                       dossier=base["dossier"], tentatives=obj.tentatives)]


def record_mail_state(session: Session, courriel: Any, statut: str) -> None:
    """Journal a mail's new state written by a bulk UPDATE (the outbox), in ``session``'s transaction."""
    annee, numero = _Context(session).annee_et_dossier(courriel.appel_id, courriel.dossier_id)
    append(session, [mail_entry(courriel.id, courriel.cle, statut, appel=annee, dossier=numero,
                                tentatives=courriel.tentatives)])


MAIL_GENRES = {"envoyé": ("courriel_envoye", "envoyé"), "en échec": ("courriel_en_echec", "en échec"),
               "en attente": ("courriel_en_attente", "remis en attente"),
               "en cours d'envoi": ("courriel_en_cours", "en cours d'envoi")}


def mail_entry(courriel_id: int, cle: str, statut: str, *, appel: int | None, dossier: str | None,
               tentatives: int | None = None) -> Ecriture:
    """The entry of a mail's new state (the outbox writes it beside its bulk UPDATE)."""
    from models.courriel import nature_of

    genre, quoi = MAIL_GENRES.get(statut, ("courriel", statut))
    return Ecriture(genre, f"Courriel {quoi} : {nature_of(cle)} (n° {courriel_id}).", appel=appel, dossier=dossier,
                    donnees={"courriel": courriel_id, "cle": cle, "statut": statut, "tentatives": tentatives})


def _utilisateur(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op == CREATION:
        return [Ecriture("compte", f"Compte « {obj.identifiant} » créé ({_value(obj.role)}).",
                         donnees={"compte": obj.id, "role": obj.role})]
    changes = _changed(obj, "role", "actif", "mot_de_passe")
    if not changes:
        return []
    quoi = {"role": "rôle changé", "actif": "activé" if obj.actif else "désactivé", "mot_de_passe": "mot de passe changé"}
    return [Ecriture("compte", f"Compte « {obj.identifiant} » : {', '.join(quoi[k] for k in sorted(changes))}.",
                     donnees={"compte": obj.id, "role": obj.role, "actif": obj.actif})]


def _porteur(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op == CREATION:
        return [Ecriture("structure", f"Structure « {obj.nom} » enregistrée.", donnees={"porteur": obj.id, "siret": obj.siret})]
    changes = _changed(obj, "nom", "siret", "adresse", "contact_nom", "contact_email", "contact_telephone")
    if not changes:
        return []  # which fields changed, never their values: contacts are personal data
    return [Ecriture("structure", f"Structure « {obj.nom} » modifiée : {', '.join(sorted(changes))}.",
                     donnees={"porteur": obj.id, "siret": obj.siret, "champs": sorted(changes)})]


def _comite(obj: Any, op: str, ctx: _Context) -> list[Ecriture]:
    if op != CREATION:
        return []
    return [Ecriture("comite_prepare", f"Comité du {obj.comite_le:%d/%m/%Y} préparé ({compte(len(obj.dossiers or []), 'dossier', 'dossiers')}).",
                     appel=ctx.annee(obj.appel_id), donnees={"comite": obj.id, "comite_le": obj.comite_le,
                                                             "dossiers": obj.dossiers})]


DESCRIBERS: dict[str, Callable[[Any, str, _Context], list[Ecriture]]] = {
    "appel": _appel, "dossier": _dossier, "depot": _depot, "piece": _piece, "attestation": _attestation,
    "instruction": _instruction, "decision_comite": _decision, "document": _document, "convention": _convention,
    "avenant": _avenant, "echeance": _echeance, "bilan": _bilan, "courriel": _courriel, "utilisateur": _utilisateur,
    "porteur": _porteur, "comite": _comite,
}
"""Table → what its changes say. A table absent here (sessions, passages, files read, receptions, the journal
itself) is bookkeeping, or recorded through another table's entry."""


def journal_changes(session: Session, _flush_context: Any) -> None:
    """``after_flush``: the entries of the rows this flush created or changed, kept for the commit."""
    if not (session.new or session.dirty):
        return
    ctx = _Context(session)
    held: list[Ecriture] = session.info.setdefault(EN_ATTENTE, [])
    for objets, op in ((session.new, CREATION), (session.dirty, MODIFICATION)):
        for obj in sorted(objets, key=_order):
            describe = DESCRIBERS.get(inspect(obj).mapper.local_table.name)
            if describe is not None:
                for e in describe(obj, op, ctx):
                    _keep(held, e)


def _keep(held: list[Ecriture], e: Ecriture) -> None:
    """A dépôt registered in this transaction is one entry: joined to its dossier, it names the dossier; the
    pièces it brought (accepted) are listed in it, each with its SHA-256. A refused pièce keeps its own entry."""
    if e.genre in ("depot_rattache", "piece_recue"):
        for i, earlier in enumerate(held):
            if earlier.genre in DEPOT_GENRES.values() and earlier.donnees.get("depot") == e.donnees["depot"]:
                if e.genre == "piece_recue":
                    piece = {k: e.donnees[k] for k in ("piece", "nature", "sha256", "taille")}
                    held[i] = replace(earlier, donnees={**earlier.donnees,
                                                        "pieces": [*earlier.donnees.get("pieces", ()), piece]})
                    return
                if earlier.dossier is None:
                    held[i] = replace(earlier, dossier=e.dossier)
                    return
    held.append(e)


def write_held(session: Session) -> None:
    """``before_commit``: the last changes flushed, what the hook holds is written in the committing transaction."""
    session.flush()
    if session.info.get(EN_ATTENTE):
        append(session, [])


def forget_held(session: Session, *_: Any) -> None:
    """``after_rollback``: what was held goes with the changes it described."""
    session.info.pop(EN_ATTENTE, None)


def _order(obj: Any) -> tuple[int, int]:
    """Parents before children (the table's rank in the schema), then by id: one order on every database."""
    table = inspect(obj).mapper.local_table.name
    return _ranks().get(table, 0), getattr(obj, "id", 0) or 0


@functools.cache
def _ranks() -> dict[str, int]:
    from models.base import Base

    return {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}


def register(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Attach the hook to the sessions ``factory`` makes (once)."""
    return listen_once(factory, {"after_flush": journal_changes, "before_commit": write_held,
                                 "after_rollback": forget_held})
