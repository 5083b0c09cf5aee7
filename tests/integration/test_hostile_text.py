"""Text that lies (issue 8, §4): SIRETs in other digits, invisible characters, lying dates, hidden
cells, library errors — each is kept, cleaned or flagged with a French reason the SA reads."""
from __future__ import annotations

from sqlalchemy import func, select

from models import Depot, Dossier, Porteur
from tests.conftest import run_intake
from tests.integration.test_bad_input import rows_of
from tests.samples import cvs, deliver, deliver_complete, form_bytes, paris, porteur

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_a_siret_typed_in_full_width_digits_files_on_the_same_structure(factory, storage, appel, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    p = porteur(81)
    deliver_complete(maildir, forms, p, paris(5, 9))
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<pleine-chasse@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, porteur_siret=p.siret.translate(FULL_WIDTH))), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.non_identifies, report.erreurs) == (2, 0, [])
    with factory() as s:
        assert s.scalars(select(Porteur.siret)).all() == [p.siret]
        assert s.scalar(select(func.count()).select_from(Dossier)) == 1
        assert [d.siret_lu for d in s.scalars(select(Depot).order_by(Depot.recu_le))] == [p.siret, p.siret]


def test_a_siret_typed_in_arabic_indic_digits_creates_no_structure(factory, storage, appel, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    p = porteur(82)
    deliver(maildir, sender="inconnu@example.org", when=paris(6, 9), message_id="<arabe@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, porteur_siret=p.siret.translate(ARABIC_INDIC))), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.non_identifies, report.erreurs) == (1, [])
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Porteur)) == 0
    (row,) = rows_of(factory, storage)
    assert any("SIRET" in m and "14 chiffres attendus" in m for m in row["motifs"]), row["motifs"]
