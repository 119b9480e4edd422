"""(being built)"""
from flask import Blueprint

bp = Blueprint("verify", __name__)
