"""Bounded work per message (issue 8, §5): hostile messages are kept with a French reason, the
batch goes on, later runs skip them; files with active content are refused with their reason."""
from __future__ import annotations

from forms.xlsx_safety import MOTIF_LIENS_EXTERNES
from adapters.pdf import RAISON_FICHIERS_JOINTS, RAISON_JAVASCRIPT
from tests.conftest import run_intake
from tests.integration.test_bad_input import Attendu, check_seen_by_the_sa, first_cv, refusee, with_member
from tests.samples import cvs, deliver, form_bytes, paris, porteur
from tests.unit.test_hostile_files import pdf_with_embedded_file, pdf_with_javascript


def test_a_cv_with_javascript_or_embedded_files_is_refused_as_a_cv_with_its_reason(
    factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(61, referents=2)
    (c1, n1), (c2, n2) = first_cv(p, 0), first_cv(p, 1)
    bad = {c1: pdf_with_javascript(), c2: pdf_with_embedded_file()}
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<js@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *bad.items()])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    check_seen_by_the_sa(factory, storage, [Attendu(
        "CV actifs", siret=p.siret, motifs=(refusee(c1, RAISON_JAVASCRIPT), refusee(c2, RAISON_FICHIERS_JOINTS)),
        manquants=(f"CV de {n1} refusé : {RAISON_JAVASCRIPT}", f"CV de {n2} refusé : {RAISON_FICHIERS_JOINTS}"),
        gardees=bad,
    )])


def test_a_form_linked_to_an_outside_workbook_is_refused_as_the_form(factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(62)
    linked = with_member(form_bytes(tmp_path / "f", p), "xl/externalLinks/externalLink1.xml",
                         b'<externalLink><externalBook r:id="rId1"/></externalLink>')
    deliver(maildir, sender="liens@example.org", when=paris(6, 9), message_id="<liens@example.org>",
            attachments=[("dossier.xlsx", linked), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.non_identifies, report.erreurs) == (1, [])
    check_seen_by_the_sa(factory, storage, [Attendu(
        "liaisons externes", expediteur="liens@example.org", motifs=(refusee("dossier.xlsx", MOTIF_LIENS_EXTERNES),),
        gardees={"dossier.xlsx": linked},
    )])
