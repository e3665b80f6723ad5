"""Who is calling the API: bearer-token verification (pyjwt) and the role-based access rules."""
