"""nianbao.inference"""
