"""(being built)"""
from flask import Blueprint

bp = Blueprint("rounds", __name__)
