"""The tables, one module per lifecycle noun. Importing this package registers them all."""
from models.appel import Appel
from models.base import Base
from models.comite import Comite
from models.convention import Avenant, Convention
from models.courriel import Courriel, CourrielStatut
from models.document import Document
from models.dossier import Attestation, Depot, Dossier, Piece, Reception
from models.instruction import DecisionComite, Instruction
from models.journal import Journal, SceauJournal
from models.passage import Passage, PassageStatut
from models.porteur import Porteur, PorteurAdresse
from models.suivi import Bilan, Echeance
from models.utilisateur import ActionUtilisateur, EchecConnexion, SessionWeb, Utilisateur

__all__ = [
    "ActionUtilisateur", "Appel", "Attestation", "Avenant", "Bilan", "Echeance", "Convention", "Base", "Comite", "DecisionComite", "Instruction", "Courriel", "CourrielStatut", "Document", "Depot", "Dossier",
    "Journal", "Passage", "PassageStatut", "SceauJournal", "Piece", "Porteur", "PorteurAdresse", "Reception", "EchecConnexion", "SessionWeb",
    "Utilisateur",
]
